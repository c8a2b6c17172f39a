package io.mproxy.protocol.mongo;

import io.mproxy.core.spi.ListenerContext;
import io.netty.buffer.ByteBuf;
import org.bson.BsonArray;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.types.ObjectId;

/**
 * The proxy's own answer to {@code hello}/{@code isMaster}: it presents itself as one mongos
 * ({@code msg: "isdbgrid"}), so a driver treats it as a single router, keeps one pool to it and
 * never dials the backends behind it. With {@code loadBalanced: true} in the request the answer
 * carries a {@code serviceId}, as a load balancer's backend must. No {@code compression} is
 * offered (so OP_COMPRESSED is never negotiated) and no {@code topologyVersion} (so drivers poll
 * rather than stream their monitoring). {@code saslSupportedMechs} lists the SCRAM mechanisms a
 * known user has (both for a password, those it has verifiers for otherwise). A {@code speculativeAuthenticate} carrying a
 * {@code saslStart} is answered with the first SCRAM step, so the driver's next message is its
 * {@code saslContinue}.
 */
final class Handshake {

  static final int MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
  static final int MAX_WRITE_BATCH_SIZE = 100_000;
  static final int LOGICAL_SESSION_TIMEOUT_MINUTES = 30;

  private final ListenerContext listener;
  private final int connectionId;
  private final ObjectId serviceId = new ObjectId();

  Handshake(ListenerContext listener, int connectionId) {
    this.listener = listener;
    this.connectionId = connectionId;
  }

  /** The reply to {@code request}; {@code legacy} for isMaster (says {@code ismaster}). */
  BsonDocument reply(BsonDocument request, ClientAuth auth, boolean legacy) {
    int maxMessage = MongoProtocolAdapter.maxMessageBytes(listener.config());
    BsonDocument r = new BsonDocument();
    r.append(legacy ? "ismaster" : "isWritablePrimary", BsonBoolean.TRUE);
    if (truthy(request.get("helloOk"))) {
      r.append("helloOk", BsonBoolean.TRUE);
    }
    r.append("msg", new BsonString("isdbgrid"))
        .append("maxBsonObjectSize", new BsonInt32(Math.min(MAX_BSON_OBJECT_SIZE, maxMessage)))
        .append("maxMessageSizeBytes", new BsonInt32(maxMessage))
        .append("maxWriteBatchSize", new BsonInt32(MAX_WRITE_BATCH_SIZE))
        .append("localTime", new BsonDateTime(listener.clock().wallMillis()))
        .append("logicalSessionTimeoutMinutes", new BsonInt32(LOGICAL_SESSION_TIMEOUT_MINUTES))
        .append("connectionId", new BsonInt32(connectionId))
        .append("minWireVersion", new BsonInt32(0))
        .append("maxWireVersion", new BsonInt32(connector().wireVersion()))
        .append("readOnly", BsonBoolean.FALSE);
    if (truthy(request.get("loadBalanced"))) {
      r.append("serviceId", new BsonObjectId(serviceId));
    }
    BsonValue mechs = request.get("saslSupportedMechs");
    if (mechs != null && mechs.isString()) {
      java.util.List<String> names = auth.mechanismsOf(mechs.asString().getValue());
      if (!names.isEmpty()) {
        r.append("saslSupportedMechs", new BsonArray(names.stream().map(BsonString::new).toList()));
      }
    }
    BsonDocument speculative = speculativeAuthenticate(request, auth);
    if (speculative != null) {
      r.append("speculativeAuthenticate", speculative);
    }
    r.append("ok", new BsonInt32(1));
    return r;
  }

  /**
   * The first SASL step of a {@code speculativeAuthenticate} in the hello (drivers 4.4+ put their
   * {@code saslStart} there to save a round trip), answered as its own {@code saslStart} would be
   * but without {@code ok}; null — so the driver runs the ordinary exchange — when there is none,
   * it is not a SASL mechanism the proxy speaks (MONGODB-X509's {@code authenticate}), or it
   * fails at its first step. A wrong password still fails, at the {@code saslContinue}.
   */
  private static BsonDocument speculativeAuthenticate(BsonDocument request, ClientAuth auth) {
    BsonValue v = request.get("speculativeAuthenticate");
    if (v == null || !v.isDocument() || !v.asDocument().containsKey("saslStart")) {
      return null;
    }
    BsonDocument answer = auth.saslStart(v.asDocument(), true);
    if (!MongoBackendConnector.isOk(answer)) {
      auth.logout();
      return null;
    }
    answer.remove("ok");
    return answer;
  }

  /** {@code client.application.name} of a handshake, or null. */
  static String appName(BsonDocument hello) {
    BsonValue client = hello.get("client");
    if (client == null || !client.isDocument()) {
      return null;
    }
    BsonValue app = client.asDocument().get("application");
    if (app == null || !app.isDocument()) {
      return null;
    }
    BsonValue name = app.asDocument().get("name");
    return name != null && name.isString() ? name.asString().getValue() : null;
  }

  static boolean truthy(BsonValue v) {
    if (v == null || v.isNull()) {
      return false;
    }
    if (v.isBoolean()) {
      return v.asBoolean().getValue();
    }
    if (v.isNumber()) {
      return v.asNumber().doubleValue() != 0;
    }
    return true;
  }

  /** A document copied out of a message (already validated), for the few the proxy reads whole. */
  static BsonDocument decode(ByteBuf buf, int start, int length) {
    byte[] bytes = new byte[length];
    buf.getBytes(start, bytes);
    return new RawBsonDocument(bytes).toBsonDocument();
  }

  private MongoBackendConnector connector() {
    return (MongoBackendConnector) listener.cluster().connector();
  }
}

package io.mproxy.protocol.mongo;

import io.mproxy.core.auth.ScramClient;
import io.mproxy.core.auth.ScramException;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * The proxy logging in to one backend connection with the cluster's credentials:
 * {@code saslStart} → {@code saslContinue} (→ empty {@code saslContinue} rounds until
 * {@code done}), checking the server's final signature so a server that does not know the
 * password cannot pass as one that does. States: start → await server-first → await
 * server-final → (await done) → ready, or failed.
 */
final class BackendScram {

  private static final int MAX_EMPTY_ROUNDS = 2;

  private final MongoBackendConnector connector;
  private final PooledConnection connection;
  private final ScramClient client;
  private final String authSource;
  private final Promise<Void> ready;
  private BsonValue conversationId;
  private int emptyRounds;

  BackendScram(MongoBackendConnector connector, PooledConnection connection, Credentials credentials,
      String mechanismName, String authSource, Promise<Void> ready) {
    ScramMechanism mechanism = ScramMechanism.fromName(mechanismName).orElse(ScramMechanism.SHA_256);
    String user = credentials.user() == null ? "" : credentials.user();
    String password = mechanism == ScramMechanism.SHA_1
        ? ScramUsers.mongoDigest(user, credentials.password()) : credentials.password();
    this.connector = connector;
    this.connection = connection;
    this.client = ScramClient.create(mechanism, user, password, ScramUsers.RANDOM);
    this.authSource = authSource;
    this.ready = ready;
  }

  void start() {
    BsonDocument start = new BsonDocument("saslStart", new BsonInt32(1))
        .append("mechanism", new BsonString(client.mechanism().mechanismName()))
        .append("payload", payload(client.clientFirst()))
        .append("options", new BsonDocument("skipEmptyExchange", BsonBoolean.TRUE))
        .append("$db", new BsonString(authSource));
    connector.command(connection, start, ready, this::onServerFirst);
  }

  private void onServerFirst(RawBsonDocument reply) {
    if (!MongoBackendConnector.isOk(reply)) {
      fail("saslStart", reply);
      return;
    }
    conversationId = reply.get("conversationId");
    try {
      String clientFinal = client.clientFinal(text(reply));
      connector.command(connection, next(clientFinal), ready, this::onServerFinal);
    } catch (ScramException e) {
      ready.tryFailure(new IllegalStateException("backend SCRAM failed: " + e.error().wire()));
    }
  }

  private void onServerFinal(RawBsonDocument reply) {
    if (!MongoBackendConnector.isOk(reply)) {
      fail("saslContinue", reply);
      return;
    }
    try {
      client.verifyServerFinal(text(reply));
    } catch (ScramException e) {
      ready.tryFailure(new IllegalStateException("backend's SCRAM signature did not verify: " + e.error().wire()));
      return;
    }
    finishOrContinue(reply);
  }

  private void finishOrContinue(RawBsonDocument reply) {
    if (reply.containsKey("done") && reply.getBoolean("done").getValue()) {
      ready.trySuccess(null);
      return;
    }
    if (++emptyRounds > MAX_EMPTY_ROUNDS) {
      ready.tryFailure(new IllegalStateException("backend SASL conversation did not finish"));
      return;
    }
    connector.command(connection, next(""), ready, r -> {
      if (!MongoBackendConnector.isOk(r)) {
        fail("saslContinue", r);
        return;
      }
      finishOrContinue(r);
    });
  }

  private BsonDocument next(String message) {
    return new BsonDocument("saslContinue", new BsonInt32(1))
        .append("conversationId", conversationId == null ? new BsonInt32(1) : conversationId)
        .append("payload", payload(message))
        .append("$db", new BsonString(authSource));
  }

  private void fail(String step, RawBsonDocument reply) {
    String msg = reply.containsKey("errmsg") && reply.get("errmsg").isString()
        ? reply.getString("errmsg").getValue() : "refused";
    ready.tryFailure(new IllegalStateException("backend refused " + step + ": " + msg));
  }

  private static BsonBinary payload(String text) {
    return new BsonBinary(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(RawBsonDocument reply) {
    return new String(reply.getBinary("payload").getData(), StandardCharsets.UTF_8);
  }
}

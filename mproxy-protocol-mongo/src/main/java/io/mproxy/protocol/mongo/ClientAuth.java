package io.mproxy.protocol.mongo;

import io.mproxy.core.auth.ScramException;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.auth.ScramServer;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.spi.ListenerContext;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client authentication of one connection, terminated at the proxy: MongoDB's SASL commands
 * ({@code saslStart}, {@code saslContinue}) carrying SCRAM-SHA-256 or SCRAM-SHA-1 against the
 * listener's configured users. Honours {@code options.skipEmptyExchange} (the server-final
 * message comes with {@code done: true}); without it, one more empty round ends the exchange,
 * as on a real server. A listener without {@code auth} lets every client in unauthenticated.
 *
 * <p>Password guessing is slowed by the listener's per-address {@code AuthFailureLimiter}: an
 * exchange whose proof fails (wrong password, unknown user) is reported to it, and while the
 * client's address is blocked an exchange is refused with code 18 before any credential is
 * checked — at {@code saslStart}, or, for a {@code speculativeAuthenticate} in the hello (whose
 * failure the driver does not see), at the {@code saslContinue} that carries the proof, so each
 * attempt is refused, and counted, once.
 *
 * <p>States: not authenticated → conversation in progress (one {@link ScramServer}) →
 * authenticated, or back to not authenticated on failure or {@code logout}.
 */
final class ClientAuth {

  private static final Logger LOG = LoggerFactory.getLogger(ClientAuth.class);
  private static final int CONVERSATION_ID = 1;

  private final ListenerContext listener;
  private final Supplier<SocketAddress> client;
  private boolean authenticated;
  private String user;
  private ScramServer scram;
  private boolean skipEmptyExchange;
  private boolean awaitingEmptyRound;
  /** The exchange began speculatively: the limiter is asked at the proof instead of at the start. */
  private boolean checkAtProof;

  /** @param client the client's address, for the auth-failure limiter */
  ClientAuth(ListenerContext listener, Supplier<SocketAddress> client) {
    this.listener = listener;
    this.client = client;
    this.authenticated = !listener.config().auth().terminates();
  }

  boolean authenticated() {
    return authenticated;
  }

  /** The authenticated user, or null. */
  String user() {
    return user;
  }

  /**
   * The mechanisms {@code db.user} (as in {@code saslSupportedMechs}) can use on this listener,
   * SCRAM-SHA-256 first; empty for an unknown user or a listener without users.
   */
  java.util.List<String> mechanismsOf(String dbDotUser) {
    int dot = dbDotUser.indexOf('.');
    String name = dot < 0 ? dbDotUser : dbDotUser.substring(dot + 1);
    AuthConfig auth = listener.config().auth();
    if (!auth.terminates()) {
      return java.util.List.of();
    }
    java.util.Set<ScramMechanism> m = ScramUsers.mechanisms(auth, name);
    java.util.List<String> out = new java.util.ArrayList<>();
    if (m.contains(ScramMechanism.SHA_256)) {
      out.add(MongoProtocolAdapter.SCRAM_SHA_256);
    }
    if (m.contains(ScramMechanism.SHA_1)) {
      out.add(MongoProtocolAdapter.SCRAM_SHA_1);
    }
    return out;
  }

  BsonDocument saslStart(BsonDocument body) {
    return saslStart(body, false);
  }

  /**
   * The first SASL step; {@code speculative} when it came inside the hello, whose failure the
   * driver never sees (so a blocked address is refused at the proof instead).
   */
  BsonDocument saslStart(BsonDocument body, boolean speculative) {
    AuthConfig auth = listener.config().auth();
    reset();
    if (!auth.terminates()) {
      return MongoReplies.error(MongoErrors.AUTHENTICATION_FAILED, "AuthenticationFailed",
          "mproxy: this listener has no users; connect without credentials");
    }
    if (!speculative) {
      Optional<String> blocked = listener.authFailures().refusal(client.get());
      if (blocked.isPresent()) {
        return MongoReplies.error(MongoErrors.AUTHENTICATION_FAILED, "AuthenticationFailed", blocked.get());
      }
    }
    String mechanismName = body.isString("mechanism") ? body.getString("mechanism").getValue() : "";
    Optional<ScramMechanism> mechanism = ScramMechanism.fromName(mechanismName);
    if (mechanism.isEmpty()) {
      return MongoReplies.error(MongoErrors.MECHANISM_UNAVAILABLE, "MechanismUnavailable",
          "Received authentication for mechanism " + mechanismName
              + " which is not enabled (mproxy offers SCRAM-SHA-256 and SCRAM-SHA-1)");
    }
    byte[] payload = payload(body);
    if (payload == null) {
      return MongoErrors.authenticationFailed();
    }
    BsonValue options = body.get("options");
    skipEmptyExchange = options != null && options.isDocument()
        && Handshake.truthy(options.asDocument().get("skipEmptyExchange"));
    ScramMechanism m = mechanism.get();
    String[] lacking = {null};
    scram = ScramServer.withLookup(m, name -> {
      Optional<io.mproxy.core.auth.ScramCredential> c = ScramUsers.lookup(auth, m, name);
      if (c.isEmpty() && auth.user(name).isPresent()) {
        lacking[0] = name;
      }
      return c;
    }, ScramUsers.decoys(), ScramUsers.RANDOM);
    try {
      String serverFirst = scram.clientFirst(new String(payload, StandardCharsets.UTF_8));
      if (lacking[0] != null) {
        // as a server says for a user without credentials of this mechanism; the driver then
        // picks one from saslSupportedMechs (or, after a speculative attempt, runs saslStart)
        reset();
        return MongoReplies.error(MongoErrors.MECHANISM_UNAVAILABLE, "MechanismUnavailable",
            "Unable to use " + m.mechanismName() + " based authentication for user without any "
                + m.mechanismName() + " credentials registered");
      }
      checkAtProof = speculative;
      return step(false, serverFirst);
    } catch (ScramException | RuntimeException e) {
      return failed(e);
    }
  }

  BsonDocument saslContinue(BsonDocument body) {
    if (scram == null) {
      return MongoReplies.error(MongoErrors.AUTHENTICATION_FAILED, "AuthenticationFailed",
          "No SASL session state found");
    }
    if (awaitingEmptyRound) {
      awaitingEmptyRound = false;
      scram = null;
      return step(true, "");
    }
    byte[] payload = payload(body);
    if (payload == null) {
      return failed(null);
    }
    if (checkAtProof) {
      Optional<String> blocked = listener.authFailures().refusal(client.get());
      if (blocked.isPresent()) {
        failed(null);
        return MongoReplies.error(MongoErrors.AUTHENTICATION_FAILED, "AuthenticationFailed", blocked.get());
      }
    }
    String serverFinal;
    try {
      serverFinal = scram.clientFinal(new String(payload, StandardCharsets.UTF_8));
    } catch (ScramException | RuntimeException e) {
      // the proof did not verify: a wrong password, or an unknown user's decoy exchange
      listener.authFailures().failed(client.get());
      return failed(e);
    }
    authenticated = true;
    user = scram.username();
    checkAtProof = false;
    if (skipEmptyExchange) {
      scram = null;
      return step(true, serverFinal);
    }
    awaitingEmptyRound = true;
    return step(false, serverFinal);
  }

  void logout() {
    reset();
    if (listener.config().auth().terminates()) {
      authenticated = false;
      user = null;
    }
  }

  private void reset() {
    scram = null;
    awaitingEmptyRound = false;
    skipEmptyExchange = false;
    checkAtProof = false;
  }

  private BsonDocument failed(Exception e) {
    LOG.debug("SCRAM exchange failed: {}", e == null ? "no payload" : e.getMessage());
    reset();
    if (listener.config().auth().terminates()) {
      authenticated = false;
      user = null;
    }
    return MongoErrors.authenticationFailed();
  }

  private static BsonDocument step(boolean done, String payload) {
    return new BsonDocument("conversationId", new BsonInt32(CONVERSATION_ID))
        .append("done", BsonBoolean.valueOf(done))
        .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)))
        .append("ok", new BsonInt32(1));
  }

  private static byte[] payload(BsonDocument body) {
    BsonValue p = body.get("payload");
    if (p == null) {
      return null;
    }
    if (p.isBinary()) {
      return p.asBinary().getData();
    }
    if (p.isString()) {
      return p.asString().getValue().getBytes(StandardCharsets.UTF_8);
    }
    return null;
  }

  /** Shorthand so the codec's error builder reads naturally here. */
  private static final class MongoReplies {
    static BsonDocument error(int code, String codeName, String errmsg) {
      return io.mproxy.protocol.mongo.codec.MongoReplies.error(code, codeName, errmsg);
    }
  }
}

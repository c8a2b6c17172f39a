package io.mproxy.protocol.postgres;

import io.mproxy.core.auth.PostgresMd5;
import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.auth.ScramDecoys;
import io.mproxy.core.auth.ScramException;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.auth.ScramServer;
import io.mproxy.core.time.RandomSource;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client authentication terminated at the proxy, one exchange per instance: SCRAM-SHA-256
 * (against a configured SCRAM verifier, or a plain password turned into one) or md5 (against a
 * plain password or an md5 hash). A user the proxy does not know gets the same exchange and the
 * same error as a wrong password, so users cannot be probed.
 */
final class PgClientAuth {

  /** What the session does next. */
  enum Step { SEND_AND_WAIT, OK, FAILED }

  /** The outcome of one step: bytes to send (may be null) and what comes next. */
  record Result(Step step, ByteBuf reply, String failure) {
  }

  /** A user's secret as the proxy knows it: a plain password, a SCRAM verifier, or an md5 hash. */
  record Secret(String password, ScramCredential scram, String md5) {
  }

  private enum State { SASL_INITIAL, SASL_CONTINUE, MD5, DONE }

  private final String user;
  private final Secret secret;
  private final RandomSource random;
  private final ScramDecoys decoys;
  private final Map<String, ScramCredential> derived;
  private State state;
  private ScramServer scram;
  private byte[] salt;

  /**
   * @param secret null for a user the proxy does not know
   * @param derived cache of SCRAM credentials derived from plain passwords (PBKDF2 is slow by design)
   */
  PgClientAuth(String user, Secret secret, PgListenerOptions.AuthMethod method, RandomSource random,
      ScramDecoys decoys, Map<String, ScramCredential> derived) {
    this.user = user;
    this.secret = secret;
    this.random = random;
    this.decoys = decoys;
    this.derived = derived;
    boolean md5Possible = secret == null || secret.password() != null || secret.md5() != null;
    this.state = method == PgListenerOptions.AuthMethod.MD5 && md5Possible ? State.MD5 : State.SASL_INITIAL;
  }

  static Map<String, ScramCredential> newCache() {
    return new ConcurrentHashMap<>();
  }

  /** The authentication request that starts the exchange. */
  ByteBuf start(ByteBufAllocator alloc) {
    if (state == State.MD5) {
      salt = new byte[4];
      for (int i = 0; i < 4; i++) {
        salt[i] = (byte) random.nextInt(256);
      }
      return PgMessages.authenticationMd5(alloc, salt);
    }
    return PgMessages.authenticationSasl(alloc, ScramMechanism.SHA_256.mechanismName());
  }

  /** Handles one PasswordMessage / SASLInitialResponse / SASLResponse ('p') from the client. */
  Result receive(ByteBufAllocator alloc, ByteBuf frame) {
    ByteBuf body = frame.duplicate().skipBytes(5);
    try {
      return switch (state) {
        case MD5 -> md5(body);
        case SASL_INITIAL -> saslInitial(alloc, body);
        case SASL_CONTINUE -> saslContinue(alloc, body);
        case DONE -> fail();
      };
    } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
      state = State.DONE;
      return new Result(Step.FAILED, null, "malformed authentication message");
    }
  }

  private Result md5(ByteBuf body) {
    state = State.DONE;
    String response = PgMessages.readCString(body);
    if (secret == null) {
      return fail();
    }
    String stored = secret.md5() != null ? secret.md5() : secret.password();
    return PostgresMd5.verify(stored, user, salt, response) ? new Result(Step.OK, null, null) : fail();
  }

  private Result saslInitial(ByteBufAllocator alloc, ByteBuf body) {
    String mechanism = PgMessages.readCString(body);
    if (!ScramMechanism.SHA_256.mechanismName().equals(mechanism)) {
      state = State.DONE;
      return new Result(Step.FAILED, null, "mechanism " + mechanism + " is not supported");
    }
    int length = body.readInt();
    if (length < 0 || length > body.readableBytes()) {
      throw new IllegalArgumentException("bad SASL length");
    }
    String clientFirst = body.toString(body.readerIndex(), length, StandardCharsets.UTF_8);
    ScramCredential credential = credential();
    scram = credential == null
        ? ScramServer.forUnknownUser(decoys.credentialFor(ScramMechanism.SHA_256, user), random)
        : ScramServer.forCredential(credential, random);
    try {
      String serverFirst = scram.clientFirst(clientFirst);
      state = State.SASL_CONTINUE;
      return new Result(Step.SEND_AND_WAIT,
          PgMessages.authenticationSaslData(alloc, PgMessages.AUTH_SASL_CONTINUE, serverFirst), null);
    } catch (ScramException e) {
      state = State.DONE;
      return fail();
    }
  }

  private Result saslContinue(ByteBufAllocator alloc, ByteBuf body) {
    state = State.DONE;
    String clientFinal = body.toString(StandardCharsets.UTF_8);
    try {
      String serverFinal = scram.clientFinal(clientFinal);
      return new Result(Step.OK,
          PgMessages.authenticationSaslData(alloc, PgMessages.AUTH_SASL_FINAL, serverFinal), null);
    } catch (ScramException e) {
      return fail();
    }
  }

  private ScramCredential credential() {
    if (secret == null) {
      return null;
    }
    if (secret.scram() != null) {
      return secret.scram();
    }
    if (secret.password() == null) {
      return null;
    }
    return derived.computeIfAbsent(user + '\0' + secret.password(),
        k -> ScramCredential.fromPassword(ScramMechanism.SHA_256, secret.password(), random));
  }

  private Result fail() {
    return new Result(Step.FAILED, null, "password authentication failed for user \"" + user + "\"");
  }
}

package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Objects;

/**
 * The client side of one SCRAM exchange, for mproxy logging in to a backend (PostgreSQL, MongoDB)
 * with the cluster's configured credentials. It checks the server as much as the server checks it:
 * the server nonce must extend ours, the iteration count must be sane (a hostile server could ask
 * for 2^31 and pin a thread), and the server-final signature must prove the server knows the keys.
 *
 * <p>States: {@code INITIAL -> AWAIT_SERVER_FIRST -> AWAIT_SERVER_FINAL -> DONE}, or
 * {@code FAILED}. Always sends gs2 header {@code n,,} (no channel binding). Not thread-safe.
 */
public final class ScramClient {

  /** Upper bound on the iteration count a server may ask for. */
  public static final int MAX_ITERATIONS = 10_000_000;

  private static final String GS2_HEADER = "n,,";

  /** Where the exchange stands. */
  public enum State { INITIAL, AWAIT_SERVER_FIRST, AWAIT_SERVER_FINAL, DONE, FAILED }

  private final ScramMechanism mechanism;
  private final String username;
  private final String password;
  private final ScramNonces nonces;
  private final ScramKeyCache cache;

  private State state = State.INITIAL;
  private String clientNonce;
  private String clientFirstBare;
  private byte[] expectedServerSignature;

  private ScramClient(ScramMechanism mechanism, String username, String password, ScramNonces nonces,
      ScramKeyCache cache) {
    this.mechanism = Objects.requireNonNull(mechanism, "mechanism");
    this.username = Objects.requireNonNull(username, "username");
    this.password = Objects.requireNonNull(password, "password");
    this.nonces = Objects.requireNonNull(nonces, "nonces");
    this.cache = cache;
  }

  /**
   * A client for one exchange. {@code username} may be empty (PostgreSQL ignores it and uses the
   * startup packet's). For SHA-256 the password is SASLprepped as PostgreSQL's libpq does; for SHA-1
   * pass MongoDB's digested password {@code hex(md5(user + ":mongo:" + password))}.
   */
  public static ScramClient create(
      ScramMechanism mechanism, String username, String password, ScramNonces nonces) {
    return new ScramClient(mechanism, username, password, nonces, null);
  }

  /**
   * Like {@link #create(ScramMechanism, String, String, ScramNonces)}, reusing keys derived in
   * earlier exchanges with the same salt and iteration count (see {@link ScramKeyCache}).
   */
  public static ScramClient create(ScramMechanism mechanism, String username, String password,
      ScramNonces nonces, ScramKeyCache cache) {
    return new ScramClient(mechanism, username, password, nonces, Objects.requireNonNull(cache, "cache"));
  }

  public static ScramClient create(
      ScramMechanism mechanism, String username, String password, RandomSource random) {
    return create(mechanism, username, password, ScramNonces.of(random));
  }

  public ScramMechanism mechanism() {
    return mechanism;
  }

  public State state() {
    return state;
  }

  /** The client-first message, {@code n,,n=<user>,r=<nonce>}. */
  public String clientFirst() {
    expectState(State.INITIAL);
    clientNonce = nonces.next();
    clientFirstBare = "n=" + ScramMessages.encodeUsername(username) + ",r=" + clientNonce;
    state = State.AWAIT_SERVER_FIRST;
    return GS2_HEADER + clientFirstBare;
  }

  /**
   * Takes the server-first message and returns the client-final message with the proof. Unless a
   * {@link ScramKeyCache} already holds them, this derives the keys with Hi(): milliseconds of CPU.
   *
   * @throws ScramException when the server-first message is malformed, does not extend our nonce,
   *     or asks for an iteration count outside 1..{@value #MAX_ITERATIONS}, or carries {@code e=}
   */
  public String clientFinal(String serverFirst) throws ScramException {
    expectState(State.AWAIT_SERVER_FIRST);
    try {
      String answer = handleServerFirst(serverFirst);
      state = State.AWAIT_SERVER_FINAL;
      return answer;
    } catch (ScramException | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
  }

  /**
   * Checks the server-final message.
   *
   * @throws ScramException carrying the server's error for {@code e=}, or invalid-proof when the
   *     server signature is wrong (the server does not know this user's keys)
   */
  public void verifyServerFinal(String serverFinal) throws ScramException {
    expectState(State.AWAIT_SERVER_FINAL);
    try {
      handleServerFinal(serverFinal);
      state = State.DONE;
    } catch (ScramException | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
  }

  private String handleServerFirst(String serverFirst) throws ScramException {
    ScramMessages.checkLength(serverFirst);
    rejectServerError(serverFirst);
    String[] attrs = ScramMessages.split(serverFirst);
    if (ScramMessages.is(attrs[0], 'm')) {
      throw new ScramException(ScramError.EXTENSIONS_NOT_SUPPORTED, "mandatory extension m=");
    }
    String nonce = ScramMessages.expect(attrs, 0, 'r', "nonce");
    if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()
        || !ScramMessages.isValidNonce(nonce)) {
      throw new ScramException(ScramError.OTHER_ERROR, "server nonce does not extend the client nonce");
    }
    byte[] salt = ScramMessages.base64(ScramMessages.expect(attrs, 1, 's', "salt"), "salt");
    if (salt.length == 0) {
      throw new ScramException(ScramError.INVALID_ENCODING, "empty salt");
    }
    int iterations = parseIterations(ScramMessages.expect(attrs, 2, 'i', "iteration count"));
    ScramKeyCache.Keys keys = keys(salt, iterations);
    byte[] clientKey = keys.clientKey();
    byte[] serverKey = keys.serverKey();
    byte[] storedKey = ScramCrypto.hash(mechanism, clientKey);
    String withoutProof = "c=" + Base64.getEncoder().encodeToString(
        GS2_HEADER.getBytes(StandardCharsets.US_ASCII)) + ",r=" + nonce;
    byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
        .getBytes(StandardCharsets.UTF_8);
    byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(mechanism, storedKey, authMessage));
    expectedServerSignature = ScramCrypto.hmac(mechanism, serverKey, authMessage);
    return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
  }

  private ScramKeyCache.Keys keys(byte[] salt, int iterations) {
    ScramKeyCache.Keys cached = cache == null ? null : cache.get(mechanism, password, salt, iterations);
    if (cached != null) {
      return cached;
    }
    byte[] saltedPassword = ScramCrypto.hi(mechanism,
        ScramCredential.passwordBytes(mechanism, password), salt, iterations);
    byte[] clientKey = ScramCrypto.hmac(mechanism, saltedPassword, ScramCrypto.CLIENT_KEY);
    byte[] serverKey = ScramCrypto.hmac(mechanism, saltedPassword, ScramCrypto.SERVER_KEY);
    if (cache != null) {
      cache.put(mechanism, password, salt, iterations, clientKey, serverKey);
    }
    return new ScramKeyCache.Keys(clientKey, serverKey);
  }

  private void handleServerFinal(String serverFinal) throws ScramException {
    ScramMessages.checkLength(serverFinal);
    rejectServerError(serverFinal);
    String[] attrs = ScramMessages.split(serverFinal);
    byte[] signature = ScramMessages.base64(
        ScramMessages.expect(attrs, 0, 'v', "server signature"), "server signature");
    if (!MessageDigest.isEqual(signature, expectedServerSignature)) {
      throw new ScramException(ScramError.INVALID_PROOF, "server signature does not verify");
    }
  }

  private static void rejectServerError(String message) throws ScramException {
    if (message.startsWith("e=")) {
      int end = message.indexOf(',');
      String value = end < 0 ? message.substring(2) : message.substring(2, end);
      throw new ScramException(ScramError.fromWire(value), "server refused: " + value);
    }
  }

  private static int parseIterations(String value) throws ScramException {
    int iterations;
    try {
      iterations = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ScramException(ScramError.INVALID_ENCODING, "iteration count is not a number");
    }
    if (iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new ScramException(ScramError.OTHER_ERROR,
          "iteration count " + iterations + " (expected: 1.." + MAX_ITERATIONS + ")");
    }
    return iterations;
  }

  private void expectState(State expected) {
    if (state != expected) {
      throw new IllegalStateException("SCRAM client is " + state + ", not " + expected);
    }
  }
}

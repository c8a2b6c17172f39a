package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * What a SCRAM server stores for one user (RFC 5802 section 3): enough to verify a client's proof
 * and sign the server's answer, but not enough to log in as that user. Arrays are copied in and out
 * so a credential stays immutable.
 *
 * @param mechanism the SCRAM variant these keys belong to
 * @param salt the salt the client must use (never empty)
 * @param iterations the Hi() iteration count (&gt;= 1)
 * @param storedKey H(ClientKey)
 * @param serverKey HMAC(SaltedPassword, "Server Key")
 */
public record ScramCredential(
    ScramMechanism mechanism, byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {

  /** PostgreSQL's default salt length and iteration count for new SCRAM-SHA-256 secrets. */
  public static final int DEFAULT_SALT_LENGTH = 16;

  public static final int DEFAULT_ITERATIONS = 4096;

  private static final String PG_PREFIX = "SCRAM-SHA-256$";
  private static final String PG_FORMAT =
      "expected: SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>";

  public ScramCredential {
    Objects.requireNonNull(mechanism, "mechanism");
    Objects.requireNonNull(salt, "salt");
    Objects.requireNonNull(storedKey, "storedKey");
    Objects.requireNonNull(serverKey, "serverKey");
    if (salt.length == 0) {
      throw new IllegalArgumentException("salt: empty (expected: at least one byte)");
    }
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    if (storedKey.length != mechanism.keyLength() || serverKey.length != mechanism.keyLength()) {
      throw new IllegalArgumentException(
          "keys: " + storedKey.length + " and " + serverKey.length + " bytes (expected: "
              + mechanism.keyLength() + " for " + mechanism.mechanismName() + ")");
    }
    salt = salt.clone();
    storedKey = storedKey.clone();
    serverKey = serverKey.clone();
  }

  /**
   * Derives the credential from a password. For SHA-256 the password is SASLprepped the way
   * PostgreSQL does it ({@link SaslPrep#prepareOrRaw}); for SHA-1 it is used as given, because
   * MongoDB's SCRAM-SHA-1 password is already the hex digest {@code md5(user:mongo:password)}.
   */
  public static ScramCredential fromPassword(
      ScramMechanism mechanism, String password, byte[] salt, int iterations) {
    byte[] saltedPassword =
        ScramCrypto.hi(mechanism, passwordBytes(mechanism, password), salt, iterations);
    byte[] clientKey = ScramCrypto.hmac(mechanism, saltedPassword, ScramCrypto.CLIENT_KEY);
    byte[] storedKey = ScramCrypto.hash(mechanism, clientKey);
    byte[] serverKey = ScramCrypto.hmac(mechanism, saltedPassword, ScramCrypto.SERVER_KEY);
    return new ScramCredential(mechanism, salt, iterations, storedKey, serverKey);
  }

  /** Like {@link #fromPassword(ScramMechanism, String, byte[], int)} with a fresh random salt. */
  public static ScramCredential fromPassword(
      ScramMechanism mechanism, String password, RandomSource random) {
    return fromPassword(mechanism, password, randomBytes(random, DEFAULT_SALT_LENGTH),
        DEFAULT_ITERATIONS);
  }

  /**
   * Parses a PostgreSQL {@code pg_authid.rolpassword} SCRAM secret.
   *
   * @throws IllegalArgumentException saying which part is malformed (the secret is not echoed)
   */
  public static ScramCredential parsePostgresVerifier(String verifier) {
    if (verifier == null || !verifier.startsWith(PG_PREFIX)) {
      throw new IllegalArgumentException("SCRAM verifier: wrong prefix (" + PG_FORMAT + ")");
    }
    String rest = verifier.substring(PG_PREFIX.length());
    int dollar = rest.indexOf('$');
    if (dollar < 0 || rest.indexOf('$', dollar + 1) >= 0) {
      throw new IllegalArgumentException("SCRAM verifier: expected two '$' separators (" + PG_FORMAT + ")");
    }
    String[] iterSalt = splitColon(rest.substring(0, dollar), "iterations:salt");
    String[] keys = splitColon(rest.substring(dollar + 1), "StoredKey:ServerKey");
    int iterations;
    try {
      iterations = Integer.parseInt(iterSalt[0]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("SCRAM verifier: iterations is not a number (" + PG_FORMAT + ")");
    }
    if (iterations < 1) {
      throw new IllegalArgumentException("SCRAM verifier: iterations " + iterations + " (expected: >= 1)");
    }
    byte[] salt = base64(iterSalt[1], "salt");
    byte[] storedKey = base64(keys[0], "StoredKey");
    byte[] serverKey = base64(keys[1], "ServerKey");
    return new ScramCredential(ScramMechanism.SHA_256, salt, iterations, storedKey, serverKey);
  }

  /** Formats this credential the way PostgreSQL stores it in {@code pg_authid}. */
  public String toPostgresVerifier() {
    if (mechanism != ScramMechanism.SHA_256) {
      throw new IllegalStateException("PostgreSQL stores only SCRAM-SHA-256 secrets, not " + mechanism.mechanismName());
    }
    Base64.Encoder b64 = Base64.getEncoder();
    return PG_PREFIX + iterations + ":" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] storedKey() {
    return storedKey.clone();
  }

  @Override
  public byte[] serverKey() {
    return serverKey.clone();
  }

  /** Constant-time comparison of the keys. */
  @Override
  public boolean equals(Object o) {
    return o instanceof ScramCredential c
        && mechanism == c.mechanism
        && iterations == c.iterations
        && Arrays.equals(salt, c.salt)
        && MessageDigest.isEqual(storedKey, c.storedKey)
        && MessageDigest.isEqual(serverKey, c.serverKey);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mechanism, iterations, Arrays.hashCode(salt));
  }

  /** Never prints the keys. */
  @Override
  public String toString() {
    return "ScramCredential[" + mechanism.mechanismName() + ", iterations=" + iterations + "]";
  }

  static byte[] passwordBytes(ScramMechanism mechanism, String password) {
    Objects.requireNonNull(password, "password");
    String prepared = mechanism == ScramMechanism.SHA_256 ? SaslPrep.prepareOrRaw(password) : password;
    return prepared.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] randomBytes(RandomSource random, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return b;
  }

  private static String[] splitColon(String part, String what) {
    int colon = part.indexOf(':');
    if (colon <= 0 || colon == part.length() - 1 || part.indexOf(':', colon + 1) >= 0) {
      throw new IllegalArgumentException("SCRAM verifier: malformed " + what + " (" + PG_FORMAT + ")");
    }
    return new String[] {part.substring(0, colon), part.substring(colon + 1)};
  }

  private static byte[] base64(String s, String what) {
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("SCRAM verifier: " + what + " is not valid base64");
    }
  }
}

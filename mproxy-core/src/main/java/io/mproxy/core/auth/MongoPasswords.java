package io.mproxy.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * MongoDB's SCRAM-SHA-1 does not hash the password itself but a digest of it,
 * {@code hex(md5(user + ":mongo:" + password))} (a legacy of MONGODB-CR); SCRAM-SHA-256 uses the
 * SASLprepped password. Both the proxy's server side (deriving stored keys from a configured
 * password) and its client side (logging in to a backend) need the same transformation.
 */
public final class MongoPasswords {

  private MongoPasswords() {}

  /** The password string SCRAM-SHA-1 feeds into Hi() for this MongoDB user. */
  public static String sha1Digest(String user, String password) {
    try {
      byte[] md5 = MessageDigest.getInstance("MD5")
          .digest((user + ":mongo:" + password).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is missing from this JDK", e);
    }
  }

  /** The credential a MongoDB server would store for this user and mechanism. */
  public static ScramCredential credential(
      ScramMechanism mechanism, String user, String password, byte[] salt, int iterations) {
    String secret = mechanism == ScramMechanism.SHA_1 ? sha1Digest(user, password) : password;
    return ScramCredential.fromPassword(mechanism, secret, salt, iterations);
  }
}

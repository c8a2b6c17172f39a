package io.mproxy.core.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The RFC 5802 primitives H, HMAC and Hi over the JDK's digests and MACs. */
final class ScramCrypto {

  static final byte[] CLIENT_KEY = ascii("Client Key");
  static final byte[] SERVER_KEY = ascii("Server Key");

  private ScramCrypto() {}

  static byte[] hash(ScramMechanism m, byte[] data) {
    try {
      return MessageDigest.getInstance(m.digestAlgorithm()).digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(m.digestAlgorithm() + " is missing from this JDK", e);
    }
  }

  static byte[] hmac(ScramMechanism m, byte[] key, byte[] data) {
    Mac mac = mac(m, key);
    return mac.doFinal(data);
  }

  /** Hi(str, salt, i): PBKDF2 with HMAC as the PRF and one output block. */
  static byte[] hi(ScramMechanism m, byte[] password, byte[] salt, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    Mac mac = mac(m, password);
    mac.update(salt);
    mac.update(new byte[] {0, 0, 0, 1});
    byte[] u = mac.doFinal();
    byte[] result = u.clone();
    for (int i = 1; i < iterations; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < result.length; j++) {
        result[j] ^= u[j];
      }
    }
    return result;
  }

  static byte[] xor(byte[] a, byte[] b) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) (a[i] ^ b[i]);
    }
    return out;
  }

  static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static Mac mac(ScramMechanism m, byte[] key) {
    try {
      Mac mac = Mac.getInstance(m.hmacAlgorithm());
      mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, m.hmacAlgorithm()));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(m.hmacAlgorithm() + " is missing from this JDK", e);
    }
  }
}

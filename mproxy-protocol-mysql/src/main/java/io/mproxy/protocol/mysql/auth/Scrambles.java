package io.mproxy.protocol.mysql.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.random.RandomGenerator;

/**
 * The password proofs of MySQL's two challenge-response plugins. The proxy holds plain
 * passwords (listener {@code auth.users}), so it can compute what a client must send and
 * compare, and compute what to send a backend.
 */
public final class Scrambles {

  public static final String NATIVE = "mysql_native_password";
  public static final String CACHING_SHA2 = "caching_sha2_password";
  /** Length of the server's challenge. */
  public static final int NONCE_LENGTH = 20;

  private Scrambles() {
  }

  /** A 20-byte challenge of printable ASCII without NUL (as servers make them). */
  public static byte[] nonce(RandomGenerator random) {
    byte[] b = new byte[NONCE_LENGTH];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (0x21 + random.nextInt(0x7E - 0x21));
    }
    return b;
  }

  /** {@code SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)))}; empty for an empty password. */
  public static byte[] nativeProof(String password, byte[] nonce) {
    if (password == null || password.isEmpty()) {
      return new byte[0];
    }
    byte[] stage1 = digest("SHA-1", password.getBytes(StandardCharsets.UTF_8));
    byte[] stage2 = digest("SHA-1", stage1);
    byte[] mix = digest("SHA-1", concat(nonce20(nonce), stage2));
    return xor(stage1, mix);
  }

  /** {@code SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)}; empty for an empty password. */
  public static byte[] sha2Proof(String password, byte[] nonce) {
    if (password == null || password.isEmpty()) {
      return new byte[0];
    }
    byte[] stage1 = digest("SHA-256", password.getBytes(StandardCharsets.UTF_8));
    byte[] stage2 = digest("SHA-256", stage1);
    byte[] mix = digest("SHA-256", concat(stage2, nonce20(nonce)));
    return xor(stage1, mix);
  }

  /** Constant-time comparison of a received proof with the expected one. */
  public static boolean matches(byte[] expected, byte[] given) {
    return given != null && MessageDigest.isEqual(expected, given);
  }

  /** Password XOR nonce (repeated), as caching_sha2 full authentication encrypts it. */
  public static byte[] xorWithNonce(byte[] passwordNul, byte[] nonce) {
    byte[] n = nonce20(nonce);
    byte[] out = new byte[passwordNul.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) (passwordNul[i] ^ n[i % n.length]);
    }
    return out;
  }

  private static byte[] nonce20(byte[] nonce) {
    if (nonce.length == NONCE_LENGTH) {
      return nonce;
    }
    byte[] n = new byte[Math.min(nonce.length, NONCE_LENGTH)];
    System.arraycopy(nonce, 0, n, 0, n.length);
    return n;
  }

  static byte[] digest(String algorithm, byte[] input) {
    try {
      return MessageDigest.getInstance(algorithm).digest(input);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is part of every JDK", e);
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] xor(byte[] a, byte[] b) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) (a[i] ^ b[i]);
    }
    return out;
  }
}

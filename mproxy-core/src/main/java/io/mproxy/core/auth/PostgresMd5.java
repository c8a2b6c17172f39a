package io.mproxy.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's legacy md5 password scheme: the stored hash is {@code "md5" + md5hex(password + user)}
 * and the wire response to a 4-byte salt is {@code "md5" + md5hex(md5hex(password + user) + salt)}.
 * Weak (the stored hash is password-equivalent) but still what many servers and clients use.
 */
public final class PostgresMd5 {

  private static final String PREFIX = "md5";
  private static final int HASH_LENGTH = PREFIX.length() + 32;
  private static final HexFormat HEX = HexFormat.of();

  private PostgresMd5() {}

  /** The pg_authid form: {@code "md5" + md5hex(password + user)}. */
  public static String hash(String user, String password) {
    return PREFIX + md5Hex(utf8(password + user));
  }

  /** What a client sends in its PasswordMessage after AuthenticationMD5Password. */
  public static String response(String user, String password, byte[] salt) {
    return responseFromHash(md5Hex(utf8(password + user)), checkSalt(salt));
  }

  /**
   * Whether {@code clientResponse} answers {@code salt} for this user. {@code storedOrPlain} is
   * either a pg_authid hash ({@code md5} + 32 hex digits) or a plain password. Constant-time.
   */
  public static boolean verify(String storedOrPlain, String user, byte[] salt, String clientResponse) {
    if (storedOrPlain == null || clientResponse == null) {
      return false;
    }
    String inner = isHash(storedOrPlain)
        ? storedOrPlain.substring(PREFIX.length()).toLowerCase(java.util.Locale.ROOT)
        : md5Hex(utf8(storedOrPlain + user));
    String expected = responseFromHash(inner, checkSalt(salt));
    return MessageDigest.isEqual(utf8(expected), utf8(clientResponse));
  }

  /** Whether {@code s} has the pg_authid md5 form rather than being a plain password. */
  public static boolean isHash(String s) {
    if (s.length() != HASH_LENGTH || !s.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < s.length(); i++) {
      if (Character.digit(s.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static String responseFromHash(String innerHex, byte[] salt) {
    byte[] inner = innerHex.getBytes(StandardCharsets.US_ASCII);
    byte[] material = new byte[inner.length + salt.length];
    System.arraycopy(inner, 0, material, 0, inner.length);
    System.arraycopy(salt, 0, material, inner.length, salt.length);
    return PREFIX + md5Hex(material);
  }

  private static byte[] checkSalt(byte[] salt) {
    if (salt == null || salt.length != 4) {
      throw new IllegalArgumentException(
          "md5 salt: " + (salt == null ? "null" : salt.length + " bytes") + " (expected: 4 bytes)");
    }
    return salt;
  }

  private static String md5Hex(byte[] data) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("MD5").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is missing from this JDK", e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

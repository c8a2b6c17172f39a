package io.mproxy.core.auth;

import java.util.Base64;

/** Parsing helpers for RFC 5802 attribute lists ({@code a=value,b=value}), shared by both sides. */
final class ScramMessages {

  /** No legitimate SCRAM message comes close; a longer one is an attack or a bug. */
  static final int MAX_MESSAGE_LENGTH = 8192;

  private ScramMessages() {}

  static void checkLength(String message) throws ScramException {
    if (message == null) {
      throw new ScramException(ScramError.INVALID_ENCODING, "missing message");
    }
    if (message.length() > MAX_MESSAGE_LENGTH) {
      throw new ScramException(ScramError.INVALID_ENCODING,
          "message of " + message.length() + " chars (expected: <= " + MAX_MESSAGE_LENGTH + ")");
    }
  }

  /**
   * Splits {@code part} into attributes. Each must be {@code <letter>=<value>}.
   *
   * @throws ScramException invalid-encoding when one is not
   */
  static String[] split(String part) throws ScramException {
    String[] attrs = part.split(",", -1);
    for (String a : attrs) {
      if (a.length() < 2 || a.charAt(1) != '=' || !isAlpha(a.charAt(0))) {
        throw new ScramException(ScramError.INVALID_ENCODING, "malformed attribute");
      }
    }
    return attrs;
  }

  static boolean is(String attr, char name) {
    return attr.charAt(0) == name;
  }

  static String value(String attr) {
    return attr.substring(2);
  }

  /** Expects attribute {@code attrs[index]} to be {@code name=...} and returns its value. */
  static String expect(String[] attrs, int index, char name, String what) throws ScramException {
    if (index >= attrs.length || !is(attrs[index], name)) {
      throw new ScramException(ScramError.INVALID_ENCODING, "expected " + what + " (" + name + "=)");
    }
    return value(attrs[index]);
  }

  /** A mandatory extension ({@code m=}) we cannot honour, RFC 5802 section 5.1. */
  static void rejectMandatoryExtension(String[] attrs, int from) throws ScramException {
    for (int i = from; i < attrs.length; i++) {
      if (is(attrs[i], 'm')) {
        throw new ScramException(ScramError.EXTENSIONS_NOT_SUPPORTED, "mandatory extension m=");
      }
    }
  }

  static byte[] base64(String value, String what) throws ScramException {
    try {
      return Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new ScramException(ScramError.INVALID_ENCODING, what + " is not valid base64");
    }
  }

  /** RFC 5802 {@code printable} without ',': what nonces are made of. */
  static boolean isValidNonce(String nonce) {
    if (nonce.isEmpty()) {
      return false;
    }
    for (int i = 0; i < nonce.length(); i++) {
      char c = nonce.charAt(i);
      if (c < 0x21 || c > 0x7e || c == ',') {
        return false;
      }
    }
    return true;
  }

  /** Decodes a saslname: "=2C" is ',' and "=3D" is '='; any other '=' is invalid. */
  static String decodeUsername(String saslName) throws ScramException {
    if (saslName.indexOf('=') < 0) {
      return saslName;
    }
    StringBuilder sb = new StringBuilder(saslName.length());
    for (int i = 0; i < saslName.length(); i++) {
      char c = saslName.charAt(i);
      if (c != '=') {
        sb.append(c);
      } else if (saslName.startsWith("=2C", i)) {
        sb.append(',');
        i += 2;
      } else if (saslName.startsWith("=3D", i)) {
        sb.append('=');
        i += 2;
      } else {
        throw new ScramException(ScramError.INVALID_USERNAME_ENCODING, "bad '=' escape in username");
      }
    }
    return sb.toString();
  }

  static String encodeUsername(String username) {
    return username.replace("=", "=3D").replace(",", "=2C");
  }

  private static boolean isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}

package io.mproxy.core.auth;

import java.text.Normalizer;

/**
 * SASLprep (RFC 4013), the stringprep profile SCRAM applies to passwords, so that a password typed
 * as composed or decomposed Unicode, or with an exotic space, derives the same keys everywhere.
 * Stored-strings rules: unassigned code points (Unicode 3.2) are rejected, as PostgreSQL does.
 */
public final class SaslPrep {

  private static final int SPACE = 0x20;

  private SaslPrep() {}

  /**
   * Prepares {@code input}: maps non-ASCII spaces to SPACE, drops "commonly mapped to nothing"
   * characters, normalizes to NFKC, then rejects prohibited output and bad bidirectional text.
   *
   * @throws IllegalArgumentException naming the offending code point and the rule it breaks
   */
  public static String prepare(String input) {
    String mapped = map(input);
    String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    checkProhibited(normalized);
    checkBidi(normalized);
    return normalized;
  }

  /**
   * PostgreSQL's rule for SCRAM passwords: a pure-ASCII password is used as it is; any other is
   * SASLprepped, and when SASLprep rejects it (or maps it to nothing) the raw password is used.
   */
  public static String prepareOrRaw(String password) {
    if (isAscii(password)) {
      return password;
    }
    try {
      String prepared = prepare(password);
      return prepared.isEmpty() ? password : prepared;
    } catch (IllegalArgumentException rejected) {
      return password;
    }
  }

  static boolean isAscii(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static String map(String input) {
    StringBuilder out = new StringBuilder(input.length());
    for (int i = 0; i < input.length(); ) {
      int cp = input.codePointAt(i);
      i += Character.charCount(cp);
      if (SaslPrepTables.contains(SaslPrepTables.NON_ASCII_SPACE, cp)) {
        out.append((char) SPACE);
      } else if (!SaslPrepTables.contains(SaslPrepTables.MAPPED_TO_NOTHING, cp)) {
        out.appendCodePoint(cp);
      }
    }
    return out.toString();
  }

  private static void checkProhibited(String s) {
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (SaslPrepTables.contains(SaslPrepTables.PROHIBITED, cp)) {
        throw new IllegalArgumentException(
            "SASLprep: prohibited character U+" + hex(cp) + " (RFC 4013 section 2.3)");
      }
      if (SaslPrepTables.contains(SaslPrepTables.UNASSIGNED, cp)) {
        throw new IllegalArgumentException(
            "SASLprep: unassigned code point U+" + hex(cp) + " (RFC 3454 table A.1)");
      }
    }
  }

  /** RFC 3454 section 6: RandALCat text must not contain LCat and must start and end with it. */
  private static void checkBidi(String s) {
    boolean hasRandAl = false;
    boolean hasL = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      hasRandAl |= SaslPrepTables.contains(SaslPrepTables.RAND_AL_CAT, cp);
      hasL |= SaslPrepTables.contains(SaslPrepTables.L_CAT, cp);
    }
    if (!hasRandAl) {
      return;
    }
    if (hasL) {
      throw new IllegalArgumentException(
          "SASLprep: mixes right-to-left and left-to-right characters (RFC 3454 section 6)");
    }
    int first = s.codePointAt(0);
    int last = s.codePointBefore(s.length());
    if (!SaslPrepTables.contains(SaslPrepTables.RAND_AL_CAT, first)
        || !SaslPrepTables.contains(SaslPrepTables.RAND_AL_CAT, last)) {
      throw new IllegalArgumentException(
          "SASLprep: right-to-left text must start and end with a right-to-left character"
              + " (RFC 3454 section 6)");
    }
  }

  private static String hex(int cp) {
    String h = Integer.toHexString(cp).toUpperCase(java.util.Locale.ROOT);
    return h.length() >= 4 ? h : "0".repeat(4 - h.length()) + h;
  }
}

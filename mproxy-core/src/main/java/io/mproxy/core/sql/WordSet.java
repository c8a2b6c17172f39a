package io.mproxy.core.sql;

import java.util.Locale;

/**
 * An immutable set of upper-case ASCII words, looked up by a region of a {@link CharSequence}
 * compared case-insensitively, so classifying and fingerprinting never allocate a String per word.
 * Open addressing over a power-of-two table; lookups return the canonical (interned) word.
 */
final class WordSet {

  private final String[] table;
  private final int mask;
  private final int maxLength;

  WordSet(String... words) {
    int size = Integer.highestOneBit(Math.max(4, words.length * 4 - 1)) << 1;
    table = new String[size];
    mask = size - 1;
    int max = 0;
    for (String w : words) {
      String upper = w.toUpperCase(Locale.ROOT);
      max = Math.max(max, upper.length());
      int slot = hash(upper, 0, upper.length()) & mask;
      while (table[slot] != null && !table[slot].equals(upper)) {
        slot = (slot + 1) & mask;
      }
      table[slot] = upper;
    }
    maxLength = max;
  }

  /** The canonical word equal (ignoring ASCII case) to {@code s[start, end)}, or null. */
  String find(CharSequence s, int start, int end) {
    int len = end - start;
    if (len <= 0 || len > maxLength) {
      return null;
    }
    int slot = hash(s, start, end) & mask;
    for (String w; (w = table[slot]) != null; slot = (slot + 1) & mask) {
      if (matches(w, s, start, len)) {
        return w;
      }
    }
    return null;
  }

  /** The current token of {@code scanner}, when it is a word in this set; else null. */
  String find(SqlScanner scanner) {
    if (scanner.type() != SqlTokenType.WORD) {
      return null;
    }
    int start = scanner.start();
    int len = scanner.end() - start;
    if (len <= 0 || len > maxLength) {
      return null;
    }
    char[] chars = scanner.chars();
    int h = scanner.wordHash();
    for (int slot = (h ^ (h >>> 16)) & mask; ; slot = (slot + 1) & mask) {
      String w = table[slot];
      if (w == null) {
        return null;
      }
      if (matches(w, chars, start, len)) {
        return w;
      }
    }
  }

  private static boolean matches(String w, char[] chars, int start, int len) {
    if (w.length() != len) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (SqlScanner.asciiUpper(chars[start + i]) != w.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean matches(String w, CharSequence s, int start, int len) {
    if (w.length() != len) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (SqlScanner.asciiUpper(s.charAt(start + i)) != w.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static int hash(CharSequence s, int start, int end) {
    int h = 0;
    for (int i = start; i < end; i++) {
      h = 31 * h + SqlScanner.asciiUpper(s.charAt(i));
    }
    return h ^ (h >>> 16);
  }
}

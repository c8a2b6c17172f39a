package io.mproxy.core.fingerprint;

import java.util.Arrays;

/**
 * Hands out one shared {@link String} per distinct shape text, so that a fingerprint built for
 * every request in a reusable buffer costs no new string once its shape has been seen.
 * Fingerprints are low-cardinality by design, which is what makes this pay.
 *
 * <p>A direct-mapped cache of a fixed number of slots: a slot holds the last shape that hashed to
 * it, so memory is bounded whatever clients send, and a collision only costs a new string. Threads
 * share it without locks: a slot holds an immutable {@code String}, so a racing reader sees either
 * the old or the new one, both correct for their own text.
 */
public final class ShapeInterner {

  /** 31 to the powers 2, 3 and 4: the text hash taken four characters a step. */
  private static final int P2 = 31 * 31;
  private static final int P3 = P2 * 31;
  private static final int P4 = P3 * 31;

  /**
   * A slot's shape: the shared string, its characters (compared with one vectorised {@link
   * Arrays#equals} instead of a {@code charAt} per character) and its hash (a cheap first test).
   * Immutable, so racing readers of a slot see a whole entry.
   */
  private static final class Entry {
    final String text;
    final char[] chars;
    final int hash;

    Entry(String text, char[] chars, int hash) {
      this.text = text;
      this.chars = chars;
      this.hash = hash;
    }
  }

  private final Entry[] slots;
  private final int mask;

  /** A cache of {@code slots} entries, rounded up to a power of two. */
  public ShapeInterner(int slots) {
    if (slots < 1 || slots > 1 << 20) {
      throw new IllegalArgumentException("slots: " + slots);
    }
    int n = 1;
    while (n < slots) {
      n <<= 1;
    }
    this.slots = new Entry[n];
    this.mask = n - 1;
  }

  /** The shared string equal to {@code text}, made from it when its slot holds another. */
  public String intern(CharSequence text) {
    int length = text.length();
    int h = 0;
    for (int i = 0; i < length; i++) {
      h = 31 * h + text.charAt(i);
    }
    int slot = (h ^ (h >>> 16)) & mask;
    Entry cached = slots[slot];
    if (cached != null && cached.hash == h && contentEquals(cached.chars, text, length)) {
      return cached.text;
    }
    String made = text.toString();
    slots[slot] = new Entry(made, made.toCharArray(), h);
    return made;
  }

  /**
   * The shared string equal to {@code chars[0, length)}: the same as {@link #intern(CharSequence)}
   * (the same slots), for callers that build their text in a reused array.
   */
  public String intern(char[] chars, int length) {
    if (length < 0 || length > chars.length) {
      throw new IndexOutOfBoundsException("length " + length + " of " + chars.length);
    }
    return lookUp(chars, length, hash(chars, length));
  }

  /**
   * {@link #intern(char[], int)} for a caller that hashed its text while writing it: {@code hash}
   * must be {@link String#hashCode()} of {@code chars[0, length)} (the slots are shared with the
   * other methods, so another hash of the same text would miss them). The text is still compared on
   * a hit, so a wrong hash costs a new string, never a wrong one.
   */
  public String intern(char[] chars, int length, int hash) {
    if (length < 0 || length > chars.length) {
      throw new IndexOutOfBoundsException("length " + length + " of " + chars.length);
    }
    return lookUp(chars, length, hash);
  }

  private String lookUp(char[] chars, int length, int h) {
    int slot = (h ^ (h >>> 16)) & mask;
    Entry cached = slots[slot];
    if (cached != null && cached.hash == h && cached.chars.length == length
        && Arrays.equals(cached.chars, 0, length, chars, 0, length)) {
      return cached.text;
    }
    char[] copy = Arrays.copyOf(chars, length);
    String made = new String(copy);
    slots[slot] = new Entry(made, copy, h);
    return made;
  }

  /**
   * {@link String#hashCode()} of {@code chars[0, length)}, four characters a step: the four are
   * weighed independently of the running hash, so the chain of multiplications that each step
   * waits for is a quarter as long as with one character a step.
   */
  static int hash(char[] chars, int length) {
    int h = 0;
    int i = 0;
    for (; i + 4 <= length; i += 4) {
      h = P4 * h + (P3 * chars[i] + P2 * chars[i + 1] + 31 * chars[i + 2] + chars[i + 3]);
    }
    for (; i < length; i++) {
      h = 31 * h + chars[i];
    }
    return h;
  }

  private static boolean contentEquals(char[] cached, CharSequence text, int length) {
    if (cached.length != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (cached[i] != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}

package io.mproxy.core.fingerprint;

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

  private final String[] slots;
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
    this.slots = new String[n];
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
    String cached = slots[slot];
    if (cached != null && contentEquals(cached, text, length)) {
      return cached;
    }
    String made = text.toString();
    slots[slot] = made;
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
    int h = 0;
    for (int i = 0; i < length; i++) {
      h = 31 * h + chars[i];
    }
    int slot = (h ^ (h >>> 16)) & mask;
    String cached = slots[slot];
    if (cached != null && contentEquals(cached, chars, length)) {
      return cached;
    }
    String made = new String(chars, 0, length);
    slots[slot] = made;
    return made;
  }

  private static boolean contentEquals(String cached, char[] chars, int length) {
    if (cached.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (cached.charAt(i) != chars[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean contentEquals(String cached, CharSequence text, int length) {
    if (cached.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (cached.charAt(i) != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}

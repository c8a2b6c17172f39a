package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Hands out one shared {@link String} per distinct run of UTF-8 bytes read from a message, so
 * that the names every command repeats (its name, {@code $db}, the collection) cost no new
 * string once seen: they were about a fifth of the bytes a forwarded point find allocated.
 *
 * <p>A direct-mapped cache of a fixed number of slots (a slot holds the last text that hashed to
 * it), so memory is bounded whatever clients send, a collision only costs a new string, and texts
 * longer than {@link #MAX_BYTES} are never kept. Threads share it without locks: a slot holds an
 * immutable entry, so a racing reader sees either the old or the new one, both correct for
 * their own bytes.
 */
public final class Utf8Interner {

  /** Longer texts are decoded each time and not kept. */
  public static final int MAX_BYTES = 128;

  private static final class Entry {
    final String text;
    final byte[] bytes;
    final int hash;

    Entry(String text, byte[] bytes, int hash) {
      this.text = text;
      this.bytes = bytes;
      this.hash = hash;
    }
  }

  private final Entry[] slots;
  private final int mask;

  /** A cache of {@code slots} entries, rounded up to a power of two. */
  public Utf8Interner(int slots) {
    if (slots < 1 || slots > 1 << 16) {
      throw new IllegalArgumentException("slots: " + slots);
    }
    int n = Integer.highestOneBit(slots);
    if (n < slots) {
      n <<= 1;
    }
    this.slots = new Entry[n];
    this.mask = n - 1;
  }

  /** The string the {@code length} UTF-8 bytes at absolute index {@code index} of {@code buf} decode to. */
  public String intern(ByteBuf buf, int index, int length) {
    if (length > MAX_BYTES) {
      return buf.toString(index, length, StandardCharsets.UTF_8);
    }
    int h = 0;
    for (int i = 0; i < length; i++) {
      h = 31 * h + buf.getByte(index + i);
    }
    int slot = (h ^ (h >>> 16)) & mask;
    Entry cached = slots[slot];
    if (cached != null && cached.hash == h && sameBytes(cached.bytes, buf, index, length)) {
      return cached.text;
    }
    byte[] bytes = new byte[length];
    buf.getBytes(index, bytes);
    String made = new String(bytes, StandardCharsets.UTF_8);
    slots[slot] = new Entry(made, bytes, h);
    return made;
  }

  /**
   * The string the {@code length} UTF-8 bytes at {@code index} of {@code bytes} decode to: the
   * same strings as {@link #intern(ByteBuf, int, int)} hands out for the same bytes.
   */
  public String intern(byte[] bytes, int index, int length) {
    if (length > MAX_BYTES) {
      return new String(bytes, index, length, StandardCharsets.UTF_8);
    }
    int h = 0;
    for (int i = index, to = index + length; i < to; i++) {
      h = 31 * h + bytes[i];
    }
    int slot = (h ^ (h >>> 16)) & mask;
    Entry cached = slots[slot];
    if (cached != null && cached.hash == h && sameBytes(cached.bytes, bytes, index, length)) {
      return cached.text;
    }
    byte[] kept = Arrays.copyOfRange(bytes, index, index + length);
    String made = new String(kept, StandardCharsets.UTF_8);
    slots[slot] = new Entry(made, kept, h);
    return made;
  }

  /**
   * A plain loop: the names compared here are a few bytes long, where {@code Arrays.equals}'s
   * range checks and vectorized {@code mismatch} cost more than the comparison.
   */
  private static boolean sameBytes(byte[] cached, byte[] bytes, int index, int length) {
    if (cached.length != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (cached[i] != bytes[index + i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameBytes(byte[] cached, ByteBuf buf, int index, int length) {
    if (cached.length != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (cached[i] != buf.getByte(index + i)) {
        return false;
      }
    }
    return true;
  }
}

package io.mproxy.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The text of a simple Query as characters, read from the message where it arrived: the SQL
 * scanner fingerprints and reads hints from it with no {@code String} decoded per query (the
 * simple query protocol sends a new text, literals inline, for every statement). Only ASCII texts
 * up to {@link #MAX_LENGTH} bytes qualify — a byte is then a character — and the bytes are copied
 * into an array owned by the event-loop thread, so reading them costs no buffer bounds checks.
 * Used within one call and {@link #clear() cleared}: nothing may keep it.
 */
final class QueryText implements CharSequence {

  /** Longer texts are decoded to a String as before (they are rare, and scanning dominates). */
  static final int MAX_LENGTH = 4096;

  private static final ThreadLocal<QueryText> PER_THREAD = ThreadLocal.withInitial(QueryText::new);

  private byte[] bytes = new byte[256];
  private int length;

  private QueryText() {
  }

  /**
   * This thread's view of the Query message's text, or null when it is not plain ASCII, is
   * longer than {@link #MAX_LENGTH} or has no terminator.
   */
  static QueryText of(ByteBuf query) {
    int from = query.readerIndex() + 5;
    int end = query.indexOf(from, query.writerIndex(), (byte) 0);
    if (end < 0 || end - from > MAX_LENGTH) {
      return null;
    }
    QueryText t = PER_THREAD.get();
    int n = end - from;
    if (t.bytes.length < n) {
      t.bytes = new byte[Math.max(n, Math.min(MAX_LENGTH, t.bytes.length * 2))];
    }
    query.getBytes(from, t.bytes, 0, n);
    for (int i = 0; i < n; i++) {
      if (t.bytes[i] < 0) {
        return null;
      }
    }
    t.length = n;
    return t;
  }

  /** Ends the use: the view reads as empty until the next {@link #of}. */
  void clear() {
    length = 0;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public char charAt(int index) {
    if (index < 0 || index >= length) {
      throw new IndexOutOfBoundsException(index);
    }
    return (char) bytes[index];
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    if (start < 0 || end > length || start > end) {
      throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + length);
    }
    return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
  }

  @Override
  public String toString() {
    return new String(bytes, 0, length, StandardCharsets.US_ASCII);
  }
}

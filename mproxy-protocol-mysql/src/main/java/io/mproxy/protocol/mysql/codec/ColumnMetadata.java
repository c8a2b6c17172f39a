package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.List;

/**
 * The column definitions of one result set as a server sent them (the payloads of its column
 * definition packets). Under MariaDB's metadata caching a server skips the column definitions of
 * an execute when they are what it last sent for that statement on that connection; with pooled
 * backend connections that is not necessarily what the proxy's client last received, so the proxy
 * keeps both sides' and puts the server's back into the answer when they differ. Immutable;
 * compared by content (the hash first).
 */
public final class ColumnMetadata {

  /** A statement whose prepare announced no result columns. */
  public static final ColumnMetadata EMPTY = new ColumnMetadata(new byte[0][]);

  private final byte[][] columns;
  private final int hash;

  private ColumnMetadata(byte[][] columns) {
    this.columns = columns;
    this.hash = Arrays.deepHashCode(columns);
  }

  /** Takes the payloads as they are (the list is copied, the arrays are not). */
  public static ColumnMetadata of(List<byte[]> payloads) {
    return payloads.isEmpty() ? EMPTY : new ColumnMetadata(payloads.toArray(new byte[0][]));
  }

  public int columns() {
    return columns.length;
  }

  /** The payload of column definition {@code i} (not a copy: do not change it). */
  public byte[] column(int i) {
    return columns[i];
  }

  /** Writes the column definitions as wire packets with sequence ids from {@code firstSeq} on. */
  public void writePackets(ByteBuf out, int firstSeq) {
    int seq = firstSeq;
    for (byte[] c : columns) {
      out.writeMediumLE(c.length).writeByte(seq++ & 0xFF).writeBytes(c);
    }
  }

  /** The bytes {@link #writePackets} writes. */
  public int wireSize() {
    int n = 0;
    for (byte[] c : columns) {
      n += 4 + c.length;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof ColumnMetadata m && m.hash == hash && Arrays.deepEquals(m.columns, columns);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "ColumnMetadata[" + columns.length + " columns]";
  }
}

package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** The protocol's basic types on a ByteBuf: length-encoded integers and strings, NUL strings. */
public final class MysqlBuf {

  private MysqlBuf() {
  }

  /**
   * Reads a length-encoded integer; -1 for the NULL marker (0xFB). Throws
   * {@link IndexOutOfBoundsException} when the buffer ends early.
   */
  public static long readLenenc(ByteBuf b) {
    int first = b.readUnsignedByte();
    if (first < 0xFB) {
      return first;
    }
    switch (first) {
      case 0xFB:
        return -1;
      case 0xFC:
        return b.readUnsignedShortLE();
      case 0xFD:
        return b.readUnsignedMediumLE();
      case 0xFE:
        return b.readLongLE();
      default:
        throw new IndexOutOfBoundsException("0xFF is not a length-encoded integer");
    }
  }

  /**
   * The length-encoded integer at index {@code at} (indexes, not the reader index: nothing moves),
   * -1 for the NULL marker; {@code end} is the first index past the field's packet. Throws
   * {@link IndexOutOfBoundsException} when the integer does not end before {@code end}.
   */
  public static long getLenenc(ByteBuf b, int at, int end) {
    int first = b.getUnsignedByte(checked(at, 1, end));
    if (first < 0xFB) {
      return first;
    }
    return switch (first) {
      case 0xFB -> -1;
      case 0xFC -> b.getUnsignedShortLE(checked(at + 1, 2, end));
      case 0xFD -> b.getUnsignedMediumLE(checked(at + 1, 3, end));
      case 0xFE -> b.getLongLE(checked(at + 1, 8, end));
      default -> throw new IndexOutOfBoundsException("0xFF is not a length-encoded integer");
    };
  }

  /** How many bytes the length-encoded integer at {@code at} takes (1, 3, 4 or 9; 1 for NULL). */
  public static int lenencSize(ByteBuf b, int at) {
    return switch (b.getUnsignedByte(at)) {
      case 0xFC -> 3;
      case 0xFD -> 4;
      case 0xFE -> 9;
      default -> 1;
    };
  }

  private static int checked(int at, int length, int end) {
    if (at + length > end) {
      throw new IndexOutOfBoundsException("a length-encoded integer runs past the packet");
    }
    return at;
  }

  public static void writeLenenc(ByteBuf b, long v) {
    if (v < 0xFB) {
      b.writeByte((int) v);
    } else if (v < 0x1_0000) {
      b.writeByte(0xFC).writeShortLE((int) v);
    } else if (v < 0x100_0000) {
      b.writeByte(0xFD).writeMediumLE((int) v);
    } else {
      b.writeByte(0xFE).writeLongLE(v);
    }
  }

  /** Reads a length-encoded string as bytes; null for the NULL marker. */
  public static byte[] readLenencBytes(ByteBuf b) {
    long n = readLenenc(b);
    if (n < 0) {
      return null;
    }
    if (n > b.readableBytes()) {
      throw new IndexOutOfBoundsException("string of " + n + " bytes with " + b.readableBytes() + " left");
    }
    byte[] out = new byte[(int) n];
    b.readBytes(out);
    return out;
  }

  public static String readLenencString(ByteBuf b) {
    byte[] bytes = readLenencBytes(b);
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }

  public static void writeLenencBytes(ByteBuf b, byte[] bytes) {
    writeLenenc(b, bytes.length);
    b.writeBytes(bytes);
  }

  public static void writeLenencString(ByteBuf b, String s) {
    writeLenencBytes(b, s.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads up to the next NUL (consumed); the rest of the buffer when there is none. */
  public static byte[] readNulBytes(ByteBuf b) {
    int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
    int n = (end < 0 ? b.writerIndex() : end) - b.readerIndex();
    byte[] out = new byte[n];
    b.readBytes(out);
    if (end >= 0) {
      b.skipBytes(1);
    }
    return out;
  }

  public static String readNulString(ByteBuf b) {
    return new String(readNulBytes(b), StandardCharsets.UTF_8);
  }

  public static void writeNulString(ByteBuf b, String s) {
    b.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
  }

  /** The rest of the buffer as a string (consumed). */
  public static String readRestString(ByteBuf b) {
    String s = b.toString(b.readerIndex(), b.readableBytes(), StandardCharsets.UTF_8);
    b.skipBytes(b.readableBytes());
    return s;
  }
}

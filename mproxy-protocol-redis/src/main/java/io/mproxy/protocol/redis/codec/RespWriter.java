package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Writes the replies and commands the proxy itself generates (errors, refusals, handshake
 * commands to backends) as RESP into a {@link ByteBuf}. Values the proxy merely forwards never
 * pass through here. {@code protocolVersion} is the client's negotiated RESP version, 2 or 3.
 */
public final class RespWriter {

  static final short CRLF = ('\r' << 8) | '\n';

  private RespWriter() {
  }

  /** {@code +s}; CR and LF in {@code s} become spaces, since a simple string cannot hold them. */
  public static ByteBuf simpleString(ByteBuf out, String s) {
    out.writeByte('+');
    writeLine(out, s);
    return out;
  }

  /**
   * {@code -message}; the message should start with an error code such as {@code ERR}. CR and
   * LF in it become spaces.
   */
  public static ByteBuf error(ByteBuf out, String message) {
    out.writeByte('-');
    writeLine(out, message);
    return out;
  }

  /** {@code :value}. */
  public static ByteBuf integer(ByteBuf out, long value) {
    out.writeByte(':');
    writeDecimal(out, value);
    out.writeShort(CRLF);
    return out;
  }

  /** A bulk string, or the RESP2 null bulk string {@code $-1} for null. */
  public static ByteBuf bulkString(ByteBuf out, byte[] value) {
    if (value == null) {
      return nullBulk(out);
    }
    bulkHeader(out, value.length);
    out.writeBytes(value).writeShort(CRLF);
    return out;
  }

  /** A bulk string holding {@code value} in UTF-8, or {@code $-1} for null. */
  public static ByteBuf bulkString(ByteBuf out, String value) {
    if (value == null) {
      return nullBulk(out);
    }
    bulkHeader(out, ByteBufUtil.utf8Bytes(value));
    ByteBufUtil.writeUtf8(out, value);
    out.writeShort(CRLF);
    return out;
  }

  /** A bulk string holding the readable bytes of {@code value} (not consumed), or {@code $-1}. */
  public static ByteBuf bulkString(ByteBuf out, ByteBuf value) {
    if (value == null) {
      return nullBulk(out);
    }
    bulkHeader(out, value.readableBytes());
    out.writeBytes(value, value.readerIndex(), value.readableBytes()).writeShort(CRLF);
    return out;
  }

  /** {@code *n}; follow it with {@code n} values. */
  public static ByteBuf arrayHeader(ByteBuf out, int n) {
    return header(out, '*', n);
  }

  /** RESP3 map header {@code %n}, or for RESP2 the flat array header {@code *2n}. */
  public static ByteBuf mapHeader(ByteBuf out, int n, int protocolVersion) {
    return protocolVersion >= 3 ? header(out, '%', n) : header(out, '*', 2L * n);
  }

  /** RESP3 set header {@code ~n}, or for RESP2 the array header {@code *n}. */
  public static ByteBuf setHeader(ByteBuf out, int n, int protocolVersion) {
    return header(out, protocolVersion >= 3 ? '~' : '*', n);
  }

  /** RESP3 push header {@code >n}, or for RESP2 (pub/sub messages) the array header {@code *n}. */
  public static ByteBuf pushHeader(ByteBuf out, int n, int protocolVersion) {
    return header(out, protocolVersion >= 3 ? '>' : '*', n);
  }

  /** The null reply: RESP3 {@code _}, RESP2 the null bulk string {@code $-1}. */
  public static ByteBuf nullValue(ByteBuf out, int protocolVersion) {
    if (protocolVersion >= 3) {
      out.writeByte('_').writeShort(CRLF);
      return out;
    }
    return nullBulk(out);
  }

  /** RESP3 boolean {@code #t}/{@code #f}, or for RESP2 the integer 1 or 0. */
  public static ByteBuf booleanValue(ByteBuf out, boolean value, int protocolVersion) {
    if (protocolVersion >= 3) {
      out.writeByte('#').writeByte(value ? 't' : 'f').writeShort(CRLF);
      return out;
    }
    return integer(out, value ? 1 : 0);
  }

  /** Appends {@code words} as a RESP array of bulk strings: a command for a backend. */
  public static ByteBuf command(ByteBuf out, String... words) {
    arrayHeader(out, words.length);
    for (String word : words) {
      bulkString(out, word);
    }
    return out;
  }

  /**
   * {@code words} as a RESP array of bulk strings in a new unpooled buffer, e.g. the
   * {@code AUTH}, {@code SELECT}, {@code HELLO} or {@code PING} a backend connection is set up
   * with.
   */
  public static ByteBuf command(String... words) {
    return command(Unpooled.buffer(16 * (words.length + 1)), words);
  }

  /** Appends the decimal digits of {@code value} without allocating. */
  static void writeDecimal(ByteBuf out, long value) {
    if (value < 0) {
      if (value == Long.MIN_VALUE) {
        out.writeCharSequence("-9223372036854775808", StandardCharsets.US_ASCII);
        return;
      }
      out.writeByte('-');
      value = -value;
    }
    long divisor = 1;
    while (divisor <= value / 10) {
      divisor *= 10;
    }
    for (; divisor > 0; divisor /= 10) {
      out.writeByte((int) ('0' + value / divisor % 10));
    }
  }

  private static ByteBuf header(ByteBuf out, char type, long n) {
    out.writeByte(type);
    writeDecimal(out, n);
    out.writeShort(CRLF);
    return out;
  }

  private static void bulkHeader(ByteBuf out, int length) {
    header(out, '$', length);
  }

  private static ByteBuf nullBulk(ByteBuf out) {
    out.writeByte('$').writeByte('-').writeByte('1').writeShort(CRLF);
    return out;
  }

  private static void writeLine(ByteBuf out, String s) {
    if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
      s = s.replace('\r', ' ').replace('\n', ' ');
    }
    ByteBufUtil.writeUtf8(out, s);
    out.writeShort(CRLF);
  }
}

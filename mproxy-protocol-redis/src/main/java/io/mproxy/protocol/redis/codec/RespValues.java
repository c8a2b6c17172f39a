package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one small RESP value into plain Java objects, for the few replies the proxy itself has
 * to understand (subscribe confirmations, handshake answers). Not for bulk data: everything is
 * copied onto the heap.
 *
 * <table>
 *   <caption>RESP types and their Java form</caption>
 *   <tr><td>{@code +} simple string</td><td>{@link String}</td></tr>
 *   <tr><td>{@code -} error, {@code !} bulk error</td><td>{@link RespError}</td></tr>
 *   <tr><td>{@code :} integer</td><td>{@link Long}</td></tr>
 *   <tr><td>{@code $} bulk string, {@code =} verbatim string (format prefix dropped)</td>
 *       <td>{@code byte[]}</td></tr>
 *   <tr><td>{@code *} array, {@code ~} set, {@code >} push</td><td>{@code List<Object>}</td></tr>
 *   <tr><td>{@code %} map</td><td>{@code Map<Object, Object>} in wire order, bulk-string keys as
 *       {@link String}</td></tr>
 *   <tr><td>{@code _}, {@code $-1}, {@code *-1}</td><td>{@code null}</td></tr>
 *   <tr><td>{@code #} boolean, {@code ,} double, {@code (} big number</td>
 *       <td>{@link Boolean}, {@link Double}, {@link BigInteger}</td></tr>
 *   <tr><td>{@code |} attribute</td><td>skipped: the value it precedes is returned</td></tr>
 * </table>
 */
public final class RespValues {

  private static final int MAX_DEPTH = 128;

  private RespValues() {
  }

  /**
   * Parses the value starting at the reader index of {@code buf}, without moving the index.
   *
   * @throws RespCodecException when the bytes are not one complete, well-formed RESP value
   */
  public static Object parse(ByteBuf buf) {
    return new Reader(buf).value(0);
  }

  /**
   * {@code value} as text when it is a {@link String}, {@code byte[]} (UTF-8), {@link Long} or
   * {@link RespError}; null otherwise.
   */
  public static String asString(Object value) {
    if (value instanceof String) {
      return (String) value;
    }
    if (value instanceof byte[]) {
      return new String((byte[]) value, StandardCharsets.UTF_8);
    }
    if (value instanceof Long) {
      return value.toString();
    }
    if (value instanceof RespError) {
      return ((RespError) value).message();
    }
    return null;
  }

  private static final class Reader {
    private final ByteBuf buf;
    private final int end;
    private int index;

    Reader(ByteBuf buf) {
      this.buf = buf;
      this.index = buf.readerIndex();
      this.end = buf.writerIndex();
    }

    Object value(int depth) {
      if (depth > MAX_DEPTH) {
        throw new RespCodecException("nesting deeper than " + MAX_DEPTH);
      }
      if (index >= end) {
        throw truncated();
      }
      byte type = buf.getByte(index++);
      int lineStart = index;
      int lineEnd = lineEnd();
      switch (type) {
        case '+':
          return text(lineStart, lineEnd);
        case '-':
          return new RespError(text(lineStart, lineEnd));
        case ':':
          return number(lineStart, lineEnd);
        case '_':
          return null;
        case '#':
          return lineEnd - lineStart == 1 && buf.getByte(lineStart) == 't';
        case ',':
          return toDouble(text(lineStart, lineEnd));
        case '(':
          try {
            return new BigInteger(text(lineStart, lineEnd));
          } catch (NumberFormatException e) {
            throw new RespCodecException("invalid big number");
          }
        case '$': case '=': case '!':
          return bulk(type, number(lineStart, lineEnd));
        case '*': case '~': case '>':
          return list(number(lineStart, lineEnd), depth);
        case '%':
          return map(number(lineStart, lineEnd), depth);
        case '|':
          map(number(lineStart, lineEnd), depth);
          return value(depth);
        default:
          throw new RespCodecException(
              "unknown RESP type '" + RespFrameDecoder.printable(type) + "'");
      }
    }

    private Object bulk(byte type, long length) {
      if (length == -1 && type == '$') {
        return null;
      }
      if (length < 0 || length > end - index - 2) {
        throw length < 0 ? new RespCodecException("invalid bulk length") : truncated();
      }
      int n = (int) length;
      if (buf.getByte(index + n) != '\r' || buf.getByte(index + n + 1) != '\n') {
        throw new RespCodecException("expected CRLF after bulk payload");
      }
      int from = index;
      index += n + 2;
      if (type == '!') {
        return new RespError(text(from, from + n));
      }
      if (type == '=' && n >= 4 && buf.getByte(from + 3) == ':') {
        from += 4;
        n -= 4;
      }
      byte[] bytes = new byte[n];
      buf.getBytes(from, bytes);
      return bytes;
    }

    private List<Object> list(long n, int depth) {
      if (n == -1) {
        return null;
      }
      checkCount(n);
      if (n == 0) {
        return Collections.emptyList();
      }
      List<Object> list = new ArrayList<>((int) n);
      for (long i = 0; i < n; i++) {
        list.add(value(depth + 1));
      }
      return list;
    }

    private Map<Object, Object> map(long n, int depth) {
      checkCount(2 * n);
      Map<Object, Object> map = new LinkedHashMap<>();
      for (long i = 0; i < n; i++) {
        Object key = value(depth + 1);
        if (key instanceof byte[]) {
          key = new String((byte[]) key, StandardCharsets.UTF_8);
        }
        map.put(key, value(depth + 1));
      }
      return map;
    }

    private void checkCount(long n) {
      if (n < 0) {
        throw new RespCodecException("invalid aggregate length");
      }
      if (n * 3 > end - index) {
        throw truncated();
      }
    }

    /** Moves past the CRLF ending the current line and returns the index of its CR. */
    private int lineEnd() {
      int lf = buf.indexOf(index, end, (byte) '\n');
      if (lf < 0) {
        throw truncated();
      }
      if (lf == index || buf.getByte(lf - 1) != '\r') {
        throw new RespCodecException("expected CRLF");
      }
      index = lf + 1;
      return lf - 1;
    }

    private long number(int from, int to) {
      long n = RespNumbers.parseOrInvalid(buf, from, to);
      if (n == RespNumbers.INVALID) {
        throw new RespCodecException("invalid number");
      }
      return n;
    }

    private String text(int from, int to) {
      return buf.toString(from, to - from, StandardCharsets.UTF_8);
    }

    private static Double toDouble(String s) {
      switch (s) {
        case "inf":
        case "+inf":
          return Double.POSITIVE_INFINITY;
        case "-inf":
          return Double.NEGATIVE_INFINITY;
        case "nan":
          return Double.NaN;
        default:
          try {
            return Double.valueOf(s);
          } catch (NumberFormatException e) {
            throw new RespCodecException("invalid double");
          }
      }
    }

    private static RespCodecException truncated() {
      return new RespCodecException("truncated value");
    }
  }
}

package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The notations of the protocol spec ({@code [string]}, {@code [long string]}, {@code [bytes]},
 * {@code [string map]}…) read from and written to buffers. Readers take the buffer's reader index
 * forward and throw {@link CqlCodecException} on truncated or negative lengths, so a malformed
 * body becomes a protocol error rather than an {@code IndexOutOfBoundsException}.
 */
public final class CqlWire {

  private CqlWire() {
  }

  public static String readString(ByteBuf b) {
    int n = need(b, 2).readUnsignedShort();
    return need(b, n).readCharSequence(n, StandardCharsets.UTF_8).toString();
  }

  public static String readLongString(ByteBuf b) {
    int n = need(b, 4).readInt();
    if (n < 0) {
      throw malformed("negative [long string] length");
    }
    return need(b, n).readCharSequence(n, StandardCharsets.UTF_8).toString();
  }

  /** A [short bytes] value, copied. */
  public static byte[] readShortBytes(ByteBuf b) {
    int n = need(b, 2).readUnsignedShort();
    byte[] out = new byte[n];
    need(b, n).readBytes(out);
    return out;
  }

  /** A [bytes] value, copied; null for a negative length. */
  public static byte[] readBytes(ByteBuf b) {
    int n = need(b, 4).readInt();
    if (n < 0) {
      return null;
    }
    byte[] out = new byte[n];
    need(b, n).readBytes(out);
    return out;
  }

  /** Skips a [bytes] or [value]. */
  public static void skipValue(ByteBuf b) {
    int n = need(b, 4).readInt();
    if (n > 0) {
      need(b, n).skipBytes(n);
    } else if (n < -2) {
      throw malformed("invalid [value] length " + n);
    }
  }

  public static Map<String, String> readStringMap(ByteBuf b) {
    int n = need(b, 2).readUnsignedShort();
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(readString(b), readString(b));
    }
    return m;
  }

  public static List<String> readStringList(ByteBuf b) {
    int n = need(b, 2).readUnsignedShort();
    List<String> l = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      l.add(readString(b));
    }
    return l;
  }

  /** Skips a [bytes map] (custom payload). */
  public static void skipBytesMap(ByteBuf b) {
    int n = need(b, 2).readUnsignedShort();
    for (int i = 0; i < n; i++) {
      int k = need(b, 2).readUnsignedShort();
      need(b, k).skipBytes(k);
      skipValue(b);
    }
  }

  /**
   * Reads a [bytes map] (custom payload) and returns the value of {@code key} as UTF-8 text, or
   * null when the map has no such key (or its value is null).
   */
  public static String readBytesMapText(ByteBuf b, String key) {
    int n = need(b, 2).readUnsignedShort();
    String found = null;
    for (int i = 0; i < n; i++) {
      String k = readString(b);
      int len = need(b, 4).readInt();
      if (len < 0) {
        continue;
      }
      need(b, len);
      if (found == null && k.equals(key)) {
        found = b.toString(b.readerIndex(), len, StandardCharsets.UTF_8);
      }
      b.skipBytes(len);
    }
    return found;
  }

  public static ByteBuf writeString(ByteBuf b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    return b.writeShort(bytes.length).writeBytes(bytes);
  }

  public static ByteBuf writeLongString(ByteBuf b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    return b.writeInt(bytes.length).writeBytes(bytes);
  }

  public static ByteBuf writeShortBytes(ByteBuf b, byte[] bytes) {
    return b.writeShort(bytes.length).writeBytes(bytes);
  }

  public static ByteBuf writeStringMultimap(ByteBuf b, Map<String, List<String>> m) {
    b.writeShort(m.size());
    for (Map.Entry<String, List<String>> e : m.entrySet()) {
      writeString(b, e.getKey());
      b.writeShort(e.getValue().size());
      e.getValue().forEach(v -> writeString(b, v));
    }
    return b;
  }

  static ByteBuf need(ByteBuf b, int n) {
    if (n < 0 || b.readableBytes() < n) {
      throw malformed("truncated message body");
    }
    return b;
  }

  static CqlCodecException malformed(String what) {
    return new CqlCodecException(what, 0, 0);
  }
}

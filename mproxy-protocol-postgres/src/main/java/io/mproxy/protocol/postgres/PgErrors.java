package io.mproxy.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Reads the fields of ErrorResponse / NoticeResponse messages the proxy needs to look at. */
final class PgErrors {

  private PgErrors() {
  }

  /** A field ({@code 'C'} SQLSTATE, {@code 'M'} message, {@code 'S'} severity) or null. */
  static String field(ByteBuf frame, char code) {
    int i = frame.readerIndex() + 5;
    int end = frame.writerIndex();
    while (i < end) {
      byte f = frame.getByte(i);
      if (f == 0) {
        return null;
      }
      int z = frame.indexOf(i + 1, end, (byte) 0);
      if (z < 0) {
        return null;
      }
      if (f == code) {
        return frame.toString(i + 1, z - i - 1, StandardCharsets.UTF_8);
      }
      i = z + 1;
    }
    return null;
  }

  /** "SQLSTATE: message", for logs and failure reasons. */
  static String describe(ByteBuf frame) {
    return field(frame, 'C') + ": " + field(frame, 'M');
  }
}

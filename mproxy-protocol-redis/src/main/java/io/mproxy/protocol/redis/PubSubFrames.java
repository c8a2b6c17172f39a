package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Cheap peeks at pub/sub frames without decoding them: the kind word that starts a message or
 * a confirmation ({@code *3\r\n$7\r\nmessage\r\n...}), and the subscription count that ends a
 * confirmation.
 */
final class PubSubFrames {

  private PubSubFrames() {
  }

  /** A pub/sub message (message, pmessage, smessage): delivered, not a reply. */
  static boolean isMessage(RespFrame frame) {
    String kind = kind(frame);
    return "message".equals(kind) || "pmessage".equals(kind) || "smessage".equals(kind);
  }

  /** A (un)subscribe confirmation, which answers a command even when sent as a RESP3 push. */
  static boolean isConfirmation(RespFrame frame) {
    String kind = kind(frame);
    return kind != null && kind.endsWith("subscribe");
  }

  /** The first element of an array or push frame when it is a short string, else null. */
  static String kind(RespFrame frame) {
    ByteBuf b = frame.content();
    int i = 0;
    int n = frame.size();
    if (n < 4) {
      return null;
    }
    byte t = b.getByte(i);
    if (t != '*' && t != '>') {
      return null;
    }
    i = skipLine(b, i, n);
    if (i < 0 || i >= n) {
      return null;
    }
    byte et = b.getByte(i);
    if (et == '+') {
      int end = lineEnd(b, i, n);
      return end < 0 ? null : b.toString(i + 1, end - i - 1, StandardCharsets.US_ASCII);
    }
    if (et != '$') {
      return null;
    }
    int end = lineEnd(b, i, n);
    if (end < 0) {
      return null;
    }
    int len = parseInt(b, i + 1, end);
    if (len < 0 || len > 16 || end + 2 + len > n) {
      return null;
    }
    return b.toString(end + 2, len, StandardCharsets.US_ASCII);
  }

  private static int skipLine(ByteBuf b, int from, int n) {
    int end = lineEnd(b, from, n);
    return end < 0 ? -1 : end + 2;
  }

  private static int lineEnd(ByteBuf b, int from, int n) {
    for (int i = from; i < n - 1; i++) {
      if (b.getByte(i) == '\r') {
        return i;
      }
    }
    return -1;
  }

  private static int parseInt(ByteBuf b, int from, int to) {
    if (from >= to || to - from > 9) {
      return -1;
    }
    int v = 0;
    for (int i = from; i < to; i++) {
      int c = b.getByte(i) - '0';
      if (c < 0 || c > 9) {
        return -1;
      }
      v = v * 10 + c;
    }
    return v;
  }
}

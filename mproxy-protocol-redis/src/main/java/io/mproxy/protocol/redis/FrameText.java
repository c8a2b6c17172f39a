package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespFrame;
import java.nio.charset.StandardCharsets;

/** Small text views of reply frames and parsed values, for logs and the proxy's own checks. */
final class FrameText {

  private FrameText() {
  }

  /** The message of an error frame ({@code -ERR something} → {@code ERR something}). */
  static String errorText(RespFrame frame) {
    int size = frame.size();
    int end = size;
    for (int i = 1; i < size; i++) {
      if (frame.content().getByte(i) == '\r') {
        end = i;
        break;
      }
    }
    int len = Math.min(end - 1, 512);
    return frame.content().toString(1, Math.max(0, len), StandardCharsets.UTF_8);
  }

  /** A parsed RESP value as text: byte arrays decoded as UTF-8, anything else by toString. */
  static String text(Object v) {
    if (v instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    return v == null ? null : String.valueOf(v);
  }
}

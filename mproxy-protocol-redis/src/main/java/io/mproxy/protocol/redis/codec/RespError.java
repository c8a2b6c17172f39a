package io.mproxy.protocol.redis.codec;

/**
 * An error reply ({@code -} or RESP3 {@code !}) as read by {@link RespValues}: its full text and
 * the leading code word, e.g. {@code ERR}, {@code WRONGTYPE}, {@code NOAUTH}, {@code MOVED}.
 */
public final class RespError {

  private final String message;

  public RespError(String message) {
    this.message = message;
  }

  /** The whole error text, code included: {@code ERR unknown command 'FOO'}. */
  public String message() {
    return message;
  }

  /** The first word of the message when it is upper case (the error code), else {@code ERR}. */
  public String code() {
    int end = message.indexOf(' ');
    String first = end < 0 ? message : message.substring(0, end);
    if (first.isEmpty()) {
      return "ERR";
    }
    for (int i = 0; i < first.length(); i++) {
      char c = first.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
        return "ERR";
      }
    }
    return first;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RespError && ((RespError) o).message.equals(message);
  }

  @Override
  public int hashCode() {
    return message.hashCode();
  }

  @Override
  public String toString() {
    return "RespError(" + message + ")";
  }
}

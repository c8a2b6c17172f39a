package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;

/** Decimal parsing straight from buffer bytes, without allocating. */
final class RespNumbers {

  /** Returned by {@link #parseOrInvalid} for anything that is not a decimal integer. */
  static final long INVALID = Long.MIN_VALUE;

  private RespNumbers() {
  }

  /**
   * Parses {@code [from, to)} as an optional {@code -} followed by 1 to 19 digits, or returns
   * {@link #INVALID} (also for values that overflow, and for {@code Long.MIN_VALUE} itself).
   */
  static long parseOrInvalid(ByteBuf buf, int from, int to) {
    if (from >= to) {
      return INVALID;
    }
    boolean negative = buf.getByte(from) == '-';
    int i = negative ? from + 1 : from;
    if (i >= to || to - i > 19) {
      return INVALID;
    }
    long value = 0;
    for (; i < to; i++) {
      int digit = buf.getByte(i) - '0';
      if (digit < 0 || digit > 9) {
        return INVALID;
      }
      value = value * 10 + digit;
      if (value < 0) {
        return INVALID;
      }
    }
    return negative ? -value : value;
  }

  /** Like {@link Long#parseLong} over the bytes {@code [from, to)}, full signed 64-bit range. */
  static long parseLong(ByteBuf buf, int from, int to) {
    if (from >= to) {
      throw new NumberFormatException("empty string is not an integer");
    }
    boolean negative = buf.getByte(from) == '-';
    int i = negative ? from + 1 : from;
    if (i >= to) {
      throw new NumberFormatException("'-' is not an integer");
    }
    long limit = negative ? Long.MIN_VALUE : -Long.MAX_VALUE;
    long result = 0;
    for (; i < to; i++) {
      int digit = buf.getByte(i) - '0';
      if (digit < 0 || digit > 9) {
        throw new NumberFormatException("not an integer");
      }
      if (result < limit / 10 || result * 10 < limit + digit) {
        throw new NumberFormatException("integer out of range");
      }
      result = result * 10 - digit;
    }
    return negative ? result : -result;
  }
}

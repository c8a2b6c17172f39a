package io.mproxy.server.config;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as written in the config: a plain number of bytes, or a number with a unit
 * {@code b}, {@code kb}, {@code mb} or {@code gb} (powers of 1024, any case), e.g. {@code 64mb}.
 */
final class ByteSize {

  static final String EXPECTED = "a size in bytes, or like 512kb or 64mb";

  private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*(b|kb|mb|gb)?");

  private ByteSize() {
  }

  /** The number of bytes, or empty when the text is not a size or overflows a long. */
  static OptionalLong parse(String text) {
    Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return OptionalLong.empty();
    }
    try {
      long number = Long.parseLong(m.group(1));
      return OptionalLong.of(Math.multiplyExact(number, unit(m.group(2))));
    } catch (NumberFormatException | ArithmeticException e) {
      return OptionalLong.empty();
    }
  }

  private static long unit(String suffix) {
    if (suffix == null) {
      return 1;
    }
    return switch (suffix) {
      case "kb" -> 1L << 10;
      case "mb" -> 1L << 20;
      case "gb" -> 1L << 30;
      default -> 1;
    };
  }
}

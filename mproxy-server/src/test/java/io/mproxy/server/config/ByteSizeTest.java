package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ByteSizeTest {

  @Test
  void unitsArePowersOf1024InAnyCase() {
    assertEquals(OptionalLong.of(100), ByteSize.parse("100"));
    assertEquals(OptionalLong.of(100), ByteSize.parse("100b"));
    assertEquals(OptionalLong.of(512 * 1024), ByteSize.parse("512kb"));
    assertEquals(OptionalLong.of(64L << 20), ByteSize.parse("64MB"));
    assertEquals(OptionalLong.of(2L << 30), ByteSize.parse(" 2 Gb "));
  }

  @Test
  void anythingElseIsNotASize() {
    assertEquals(OptionalLong.empty(), ByteSize.parse("64m"));
    assertEquals(OptionalLong.empty(), ByteSize.parse("1.5mb"));
    assertEquals(OptionalLong.empty(), ByteSize.parse("-1kb"));
    assertEquals(OptionalLong.empty(), ByteSize.parse("mb"));
    assertEquals(OptionalLong.empty(), ByteSize.parse("9999999999999999999gb"));
  }
}

package io.mproxy.protocol.redis.codec;

import static io.mproxy.protocol.redis.codec.RespTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RespValuesTest {

  private static Object parse(String s) {
    ByteBuf buf = Unpooled.wrappedBuffer(bytes(s));
    try {
      Object value = RespValues.parse(buf);
      assertEquals(0, buf.readerIndex(), "parse does not consume");
      return value;
    } finally {
      buf.release();
    }
  }

  @Test
  void readsResp2SubscribeConfirmations() {
    List<?> list = (List<?>) parse("*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
    assertEquals(3, list.size());
    assertEquals("unsubscribe", RespValues.asString(list.get(0)));
    assertEquals("ch", RespValues.asString(list.get(1)));
    assertEquals(0L, list.get(2));
  }

  @Test
  void readsResp3Pushes() {
    List<?> list = (List<?>) parse(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assertEquals("subscribe", RespValues.asString(list.get(0)));
    assertEquals(1L, list.get(2));
  }

  @Test
  void readsScalars() {
    assertEquals("OK", parse("+OK\r\n"));
    assertEquals(new RespError("WRONGTYPE Operation against a key"),
        parse("-WRONGTYPE Operation against a key\r\n"));
    assertEquals("WRONGTYPE", ((RespError) parse("-WRONGTYPE x\r\n")).code());
    assertEquals("ERR", ((RespError) parse("-oops\r\n")).code());
    assertEquals(new RespError("SYNTAX bad"), parse("!10\r\nSYNTAX bad\r\n"));
    assertEquals(-7L, parse(":-7\r\n"));
    assertArrayEquals(bytes("a\r\nb"), (byte[]) parse("$4\r\na\r\nb\r\n"));
    assertArrayEquals(bytes("Some string"), (byte[]) parse("=15\r\ntxt:Some string\r\n"));
    assertNull(parse("$-1\r\n"));
    assertNull(parse("*-1\r\n"));
    assertNull(parse("_\r\n"));
    assertEquals(Boolean.TRUE, parse("#t\r\n"));
    assertEquals(Boolean.FALSE, parse("#f\r\n"));
    assertEquals(1.5, parse(",1.5\r\n"));
    assertEquals(Double.NEGATIVE_INFINITY, parse(",-inf\r\n"));
    assertEquals(new BigInteger("3492890328409238509324850943850943825024385"),
        parse("(3492890328409238509324850943850943825024385\r\n"));
  }

  @Test
  void readsMapsSetsAndSkipsAttributes() {
    Map<?, ?> map = (Map<?, ?>) parse("%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n+proto\r\n:3\r\n");
    assertEquals(List.of("server", "proto"), List.copyOf(map.keySet()));
    assertArrayEquals(bytes("redis"), (byte[]) map.get("server"));
    assertEquals(3L, map.get("proto"));
    assertEquals(List.of("a", "b"), parse("~2\r\n+a\r\n+b\r\n"));
    assertEquals(List.of(), parse("*0\r\n"));
    assertEquals(List.of(1L, List.of(2L)), parse("|1\r\n+ttl\r\n:3\r\n*2\r\n:1\r\n*1\r\n:2\r\n"));
  }

  @Test
  void rejectsMalformedOrTruncatedValues() {
    assertEquals("truncated value",
        assertThrows(RespCodecException.class, () -> parse("*2\r\n:1\r\n")).getMessage());
    assertEquals("truncated value",
        assertThrows(RespCodecException.class, () -> parse("$5\r\nab\r\n")).getMessage());
    assertEquals("truncated value",
        assertThrows(RespCodecException.class, () -> parse("+OK")).getMessage());
    assertEquals("expected CRLF",
        assertThrows(RespCodecException.class, () -> parse("+OK\n")).getMessage());
    assertEquals("invalid number",
        assertThrows(RespCodecException.class, () -> parse(":x\r\n")).getMessage());
    assertEquals("unknown RESP type '@'",
        assertThrows(RespCodecException.class, () -> parse("@\r\n")).getMessage());
    assertTrue(assertThrows(RespCodecException.class, () -> parse("*1\r\n".repeat(200) + ":1\r\n"))
        .getMessage().startsWith("nesting deeper"));
  }
}

package io.mproxy.protocol.redis.codec;

import static io.mproxy.protocol.redis.codec.RespTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class RespWriterTest {

  private static String written(Function<ByteBuf, ByteBuf> writer) {
    ByteBuf buf = Unpooled.buffer();
    try {
      writer.apply(buf);
      return text(buf);
    } finally {
      buf.release();
    }
  }

  @Test
  void writesScalars() {
    assertEquals("+OK\r\n", written(b -> RespWriter.simpleString(b, "OK")));
    assertEquals("-ERR Protocol error: bad  input\r\n",
        written(b -> RespWriter.error(b, "ERR Protocol error: bad\r\ninput")));
    assertEquals(":0\r\n", written(b -> RespWriter.integer(b, 0)));
    assertEquals(":-12345\r\n", written(b -> RespWriter.integer(b, -12345)));
    assertEquals(":9223372036854775807\r\n", written(b -> RespWriter.integer(b, Long.MAX_VALUE)));
    assertEquals(":-9223372036854775808\r\n", written(b -> RespWriter.integer(b, Long.MIN_VALUE)));
    assertEquals(":1000000\r\n", written(b -> RespWriter.integer(b, 1_000_000)));
  }

  @Test
  void writesBulkStringsAndNulls() {
    assertEquals("$6\r\nh\u00e9llo\r\n", written(b -> RespWriter.bulkString(b, "h\u00e9llo")));
    assertEquals("$2\r\nab\r\n",
        written(b -> RespWriter.bulkString(b, "ab".getBytes(StandardCharsets.UTF_8))));
    assertEquals("$0\r\n\r\n", written(b -> RespWriter.bulkString(b, "")));
    assertEquals("$-1\r\n", written(b -> RespWriter.bulkString(b, (String) null)));
    assertEquals("$-1\r\n", written(b -> RespWriter.bulkString(b, (byte[]) null)));
    ByteBuf value = Unpooled.copiedBuffer("xyz", StandardCharsets.UTF_8);
    assertEquals("$3\r\nxyz\r\n", written(b -> RespWriter.bulkString(b, value)));
    assertEquals(3, value.readableBytes(), "not consumed");
    value.release();
    assertEquals("$-1\r\n", written(b -> RespWriter.nullValue(b, 2)));
    assertEquals("_\r\n", written(b -> RespWriter.nullValue(b, 3)));
  }

  @Test
  void writesAggregateHeadersPerProtocolVersion() {
    assertEquals("*3\r\n", written(b -> RespWriter.arrayHeader(b, 3)));
    assertEquals("%2\r\n", written(b -> RespWriter.mapHeader(b, 2, 3)));
    assertEquals("*4\r\n", written(b -> RespWriter.mapHeader(b, 2, 2)));
    assertEquals("~2\r\n", written(b -> RespWriter.setHeader(b, 2, 3)));
    assertEquals("*2\r\n", written(b -> RespWriter.setHeader(b, 2, 2)));
    assertEquals(">3\r\n", written(b -> RespWriter.pushHeader(b, 3, 3)));
    assertEquals("*3\r\n", written(b -> RespWriter.pushHeader(b, 3, 2)));
    assertEquals("#t\r\n", written(b -> RespWriter.booleanValue(b, true, 3)));
    assertEquals(":0\r\n", written(b -> RespWriter.booleanValue(b, false, 2)));
  }

  @Test
  void writesCommands() {
    ByteBuf command = RespWriter.command("AUTH", "user", "p\u00e4ss");
    assertEquals("*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$5\r\np\u00e4ss\r\n", text(command));
    command.release();
    assertEquals("*1\r\n$4\r\nPING\r\n", written(b -> RespWriter.command(b, "PING")));
  }
}

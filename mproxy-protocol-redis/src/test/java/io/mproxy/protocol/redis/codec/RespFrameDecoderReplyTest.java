package io.mproxy.protocol.redis.codec;

import static io.mproxy.protocol.redis.codec.RespTestSupport.bytes;
import static io.mproxy.protocol.redis.codec.RespTestSupport.concat;
import static io.mproxy.protocol.redis.codec.RespTestSupport.feedByteByByte;
import static io.mproxy.protocol.redis.codec.RespTestSupport.feedRandom;
import static io.mproxy.protocol.redis.codec.RespTestSupport.feedWhole;
import static io.mproxy.protocol.redis.codec.RespTestSupport.joined;
import static io.mproxy.protocol.redis.codec.RespTestSupport.release;
import static io.mproxy.protocol.redis.codec.RespTestSupport.repeat;
import static io.mproxy.protocol.redis.codec.RespTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrameDecoder.Mode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RespFrameDecoderReplyTest {

  private static final int MAX = 1024 * 1024;

  static Stream<Arguments> replies() {
    return Stream.of(
        Arguments.of("+OK\r\n", '+'),
        Arguments.of("+\r\n", '+'),
        Arguments.of("-ERR unknown command 'FOO'\r\n", '-'),
        Arguments.of(":1000\r\n", ':'),
        Arguments.of(":-5\r\n", ':'),
        Arguments.of(":-9223372036854775808\r\n", ':'),
        Arguments.of("$5\r\nhello\r\n", '$'),
        Arguments.of("$0\r\n\r\n", '$'),
        Arguments.of("$-1\r\n", '$'),
        Arguments.of("$12\r\nhello\r\nworld\r\n", '$'),
        Arguments.of("*2\r\n$3\r\nfoo\r\n:1\r\n", '*'),
        Arguments.of("*0\r\n", '*'),
        Arguments.of("*-1\r\n", '*'),
        Arguments.of("*3\r\n*1\r\n+a\r\n*0\r\n$-1\r\n", '*'),
        Arguments.of("_\r\n", '_'),
        Arguments.of(",3.14\r\n", ','),
        Arguments.of(",-inf\r\n", ','),
        Arguments.of("#t\r\n", '#'),
        Arguments.of("#f\r\n", '#'),
        Arguments.of("!21\r\nSYNTAX invalid syntax\r\n", '!'),
        Arguments.of("=15\r\ntxt:Some string\r\n", '='),
        Arguments.of("(3492890328409238509324850943850943825024385\r\n", '('),
        Arguments.of("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", '%'),
        Arguments.of("%0\r\n", '%'),
        Arguments.of("~3\r\n+a\r\n+b\r\n+c\r\n", '~'),
        Arguments.of(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n", '>'),
        Arguments.of("%1\r\n+m\r\n%1\r\n+n\r\n~2\r\n>1\r\n:1\r\n_\r\n", '%'),
        Arguments.of("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
            + "*2\r\n:2039123\r\n:9543892\r\n", '*'),
        Arguments.of("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", '*'),
        Arguments.of("|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n*1\r\n:1\r\n-ERR x\r\n", '-'),
        Arguments.of("|0\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n", '>'));
  }

  @ParameterizedTest
  @MethodSource("replies")
  void roundTripsInOnePiece(String reply, char type) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    List<RespFrame> frames = feedWhole(ch, bytes(reply));
    assertEquals(1, frames.size());
    RespFrame frame = frames.get(0);
    assertEquals(reply, text(frame));
    assertEquals((byte) type, frame.type());
    assertEquals(reply.length(), frame.size());
    assertEquals(type == '-' || type == '!', frame.isError());
    assertEquals(type == '>', frame.isPush());
    assertEquals(reply.startsWith("|"), frame.hasAttribute());
    assertFalse(frame.isCommand());
    assertEquals(0, frame.argCount());
    release(frames);
    assertFalse(ch.finish());
  }

  @ParameterizedTest
  @MethodSource("replies")
  void waitsForEveryByte(String reply, char type) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    byte[] data = bytes(reply);
    List<RespFrame> frames = new ArrayList<>();
    for (int i = 0; i < data.length; i++) {
      assertTrue(frames.isEmpty(), "frame emitted after " + i + " of " + data.length + " bytes");
      ch.writeInbound(Unpooled.wrappedBuffer(data, i, 1));
      frames.addAll(RespTestSupport.drain(ch));
    }
    assertEquals(1, frames.size());
    assertEquals(reply, text(frames.get(0)));
    assertEquals((byte) type, frames.get(0).type());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void pipelinedRepliesComeOutInOrderWhateverTheFragmentation() {
    List<String> all = new ArrayList<>();
    replies().forEach(a -> all.add((String) a.get()[0]));
    byte[] stream = bytes(String.join("", all));
    Random random = new Random(42);
    for (int round = 0; round < 50; round++) {
      EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
      List<RespFrame> frames = round == 0 ? feedWhole(ch, stream)
          : round == 1 ? feedByteByByte(ch, stream) : feedRandom(ch, stream, random, 1 + round);
      assertEquals(all.size(), frames.size());
      for (int i = 0; i < all.size(); i++) {
        assertEquals(all.get(i), text(frames.get(i)));
      }
      assertArrayEquals(stream, joined(frames));
      release(frames);
      assertFalse(ch.finish());
    }
  }

  static Stream<Arguments> invalidReplies() {
    return Stream.of(
        Arguments.of("$abc\r\n", "invalid bulk length"),
        Arguments.of("$-2\r\n", "invalid bulk length"),
        Arguments.of("$\r\n", "invalid bulk length"),
        Arguments.of("$+5\r\nhello\r\n", "invalid bulk length"),
        Arguments.of("$12345678901234567890123\r\n", "invalid bulk length"),
        Arguments.of("*-2\r\n", "invalid multibulk length"),
        Arguments.of("*1x\r\n", "invalid multibulk length"),
        Arguments.of("%-1\r\n", "invalid aggregate length"),
        Arguments.of("~-1\r\n", "invalid aggregate length"),
        Arguments.of("$?\r\n", "streamed RESP3 values are not supported"),
        Arguments.of("*?\r\n", "streamed RESP3 values are not supported"),
        Arguments.of("@foo\r\n", "unknown RESP type '@'"),
        Arguments.of("\u0001", "unknown RESP type '\\x01'"),
        Arguments.of("*2\r\n:1\r\n;3\r\n", "unknown RESP type ';'"),
        Arguments.of("+OK\n", "expected CRLF after '+' line"),
        Arguments.of("$3\r\nfooXY", "expected CRLF after bulk payload"),
        Arguments.of(":12a\r\n", "invalid integer"),
        Arguments.of(":\r\n", "invalid integer"),
        Arguments.of("#x\r\n", "invalid boolean"),
        Arguments.of("#true\r\n", "invalid boolean"),
        Arguments.of("_x\r\n", "invalid null"),
        Arguments.of(",\r\n", "invalid double"),
        Arguments.of("(12x\r\n", "invalid big number"),
        Arguments.of("$999999999\r\n", "bulk length 999999999 exceeds max 1048576"),
        Arguments.of("$1048570\r\n", "frame of 1048582 bytes exceeds max 1048576"),
        Arguments.of("*999999\r\n", "frame of at least 3000006 bytes exceeds max 1048576"),
        Arguments.of("%999999\r\n", "frame of at least 6000003 bytes exceeds max 1048576"),
        Arguments.of("*99999999999\r\n",
            "aggregate length 99999999999 exceeds max 16777216"));
  }

  @ParameterizedTest
  @MethodSource("invalidReplies")
  void invalidInputFailsAndPoisonsTheDecoder(String input, String message) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes(input))));
    assertEquals(message, e.getMessage());
    assertFalse(ch.writeInbound(Unpooled.wrappedBuffer(bytes("+OK\r\n"))),
        "input after an error is discarded");
    assertFalse(ch.finish());
  }

  @ParameterizedTest
  @MethodSource("invalidReplies")
  void invalidInputFailsWhenFedByteByByte(String input, String message) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    byte[] data = bytes(input);
    RespCodecException error = null;
    for (int i = 0; i < data.length && error == null; i++) {
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(data, i, 1));
      } catch (RespCodecException e) {
        error = e;
      }
    }
    assertTrue(error != null, "no error for " + input);
    assertEquals(message, error.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void framesBeforeAnErrorAreStillDelivered() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("+OK\r\n:1\r\n@bad\r\n"))));
    List<RespFrame> frames = RespTestSupport.drain(ch);
    assertEquals(2, frames.size());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void oversizedBulkIsRefusedFromItsHeaderAlone() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, 64 * 1024 * 1024));
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("$70000000\r\n"))));
    assertEquals("bulk length 70000000 exceeds max 67108864", e.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void overlongSimpleStringIsRefusedBeforeItIsBuffered() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, 1000));
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("+" + repeat('a', 1000)))));
    assertEquals("frame exceeds max 1000 bytes", e.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void frameExactlyAtTheLimitIsAccepted() {
    String reply = "$" + (1000 - 8) + "\r\n" + repeat('x', 1000 - 8) + "\r\n";
    assertEquals(1000, reply.length());
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, 1000));
    List<RespFrame> frames = feedWhole(ch, bytes(reply));
    assertEquals(1, frames.size());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void nestingIsCapped() {
    StringBuilder ok = new StringBuilder();
    for (int i = 0; i < 128; i++) {
      ok.append("*1\r\n");
    }
    ok.append(":1\r\n");
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    List<RespFrame> frames = feedWhole(ch, bytes(ok.toString()));
    assertEquals(1, frames.size());
    release(frames);
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("*1\r\n" + ok))));
    assertEquals("nesting deeper than 128", e.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void aggregateLengthIsCapped() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX, 8, 10));
    List<RespFrame> frames = feedWhole(ch, bytes("~10\r\n" + "_\r\n".repeat(10)));
    assertEquals(1, frames.size());
    release(frames);
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("%11\r\n"))));
    assertEquals("aggregate length 11 exceeds max 10", e.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void hugeArrayInChunksIsScannedOnce() {
    int n = 100_000;
    StringBuilder sb = new StringBuilder("*").append(n).append("\r\n");
    for (int i = 0; i < n; i++) {
      sb.append(':').append(i).append("\r\n");
    }
    byte[] data = bytes(sb.toString());
    RespFrameDecoder decoder = new RespFrameDecoder(Mode.REPLY, 64 * 1024 * 1024);
    EmbeddedChannel ch = RespTestSupport.untrackedChannel(decoder);
    List<RespFrame> frames = new ArrayList<>();
    for (int at = 0; at < data.length; at += 65536) {
      int len = Math.min(65536, data.length - at);
      ch.writeInbound(Unpooled.wrappedBuffer(data, at, len));
      frames.addAll(RespTestSupport.drain(ch));
    }
    assertEquals(1, frames.size());
    assertArrayEquals(data, RespTestSupport.content(frames.get(0)));
    assertTrue(decoder.scannedBytes() <= data.length,
        "scanned " + decoder.scannedBytes() + " of " + data.length);
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void largeBulkReplyIsSkippedNotScanned() {
    int size = 10 * 1024 * 1024;
    byte[] header = bytes("$" + size + "\r\n");
    byte[] payload = new byte[size];
    new Random(1).nextBytes(payload);
    byte[] data = concat(header, payload, bytes("\r\n"));
    RespFrameDecoder decoder = new RespFrameDecoder(Mode.REPLY, 64 * 1024 * 1024);
    EmbeddedChannel ch = RespTestSupport.untrackedChannel(decoder);
    List<RespFrame> frames = new ArrayList<>();
    for (int at = 0; at < data.length; at += 65536) {
      int len = Math.min(65536, data.length - at);
      ByteBuf piece = ch.alloc().buffer(len).writeBytes(data, at, len);
      ch.writeInbound(piece);
      frames.addAll(RespTestSupport.drain(ch));
    }
    assertEquals(1, frames.size());
    assertEquals(data.length, frames.get(0).size());
    assertArrayEquals(data, RespTestSupport.content(frames.get(0)));
    assertTrue(decoder.scannedBytes() < 32, "scanned " + decoder.scannedBytes());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void truncatedFrameAtCloseIsDroppedWithoutLeak() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, MAX));
    assertFalse(ch.writeInbound(Unpooled.wrappedBuffer(bytes("*2\r\n$3\r\nfo"))));
    assertFalse(ch.finish());
  }
}

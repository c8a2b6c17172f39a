package io.mproxy.protocol.redis.codec;

import static io.mproxy.protocol.redis.codec.RespTestSupport.bytes;
import static io.mproxy.protocol.redis.codec.RespTestSupport.concat;
import static io.mproxy.protocol.redis.codec.RespTestSupport.drain;
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
import io.netty.buffer.ByteBufUtil;
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

class RespFrameDecoderRequestTest {

  private static final int MAX = 1024 * 1024;

  private static EmbeddedChannel channel() {
    return new EmbeddedChannel(new RespFrameDecoder(Mode.REQUEST, MAX));
  }

  static Stream<String> commands() {
    return Stream.of(
        "*1\r\n$4\r\nPING\r\n",
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        "*2\r\n$3\r\nGET\r\n$0\r\n\r\n",
        "*3\r\n$3\r\nset\r\n$4\r\nk\r\nv\r\n$6\r\n\r\n\r\n\r\n\r\n",
        "*2\r\n$4\r\nECHO\r\n$6\r\nh\u00e9llo\r\n");
  }

  @ParameterizedTest
  @MethodSource("commands")
  void roundTripsInOnePiece(String command) {
    EmbeddedChannel ch = channel();
    List<RespFrame> frames = feedWhole(ch, bytes(command));
    assertEquals(1, frames.size());
    RespFrame frame = frames.get(0);
    assertEquals(command, text(frame));
    assertEquals('*', frame.type());
    assertTrue(frame.isCommand());
    assertFalse(frame.isError());
    release(frames);
    assertFalse(ch.finish());
  }

  @ParameterizedTest
  @MethodSource("commands")
  void waitsForEveryByte(String command) {
    EmbeddedChannel ch = channel();
    byte[] data = bytes(command);
    List<RespFrame> frames = new ArrayList<>();
    for (int i = 0; i < data.length; i++) {
      assertTrue(frames.isEmpty(), "frame emitted after " + i + " bytes");
      ch.writeInbound(Unpooled.wrappedBuffer(data, i, 1));
      frames.addAll(drain(ch));
    }
    assertEquals(1, frames.size());
    assertEquals(command, text(frames.get(0)));
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void argumentsArePositionedInTheOriginalBytes() {
    EmbeddedChannel ch = channel();
    List<RespFrame> frames =
        feedByteByByte(ch, bytes("*3\r\n$3\r\nset\r\n$4\r\nk\r\nv\r\n$6\r\n\r\n\r\n\r\n\r\n"));
    RespFrame frame = frames.get(0);
    assertEquals(3, frame.argCount());
    assertEquals("SET", frame.commandName());
    assertEquals("set", frame.argString(0));
    assertEquals("k\r\nv", frame.argString(1));
    assertEquals("\r\n\r\n\r\n", frame.argString(2));
    assertEquals(4, frame.argLength(1));
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void pipelinedCommandsComeOutInOrder() {
    StringBuilder sb = new StringBuilder();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String key = "key:" + i;
      String command = i % 3 == 0
          ? "*2\r\n$3\r\nGET\r\n$" + key.length() + "\r\n" + key + "\r\n"
          : "*3\r\n$3\r\nSET\r\n$" + key.length() + "\r\n" + key + "\r\n$1\r\n" + (i % 10) + "\r\n";
      sb.append(command);
      expected.add(command);
    }
    byte[] stream = bytes(sb.toString());
    Random random = new Random(7);
    for (int round = 0; round < 30; round++) {
      EmbeddedChannel ch = channel();
      List<RespFrame> frames = round == 0 ? feedWhole(ch, stream)
          : round == 1 ? feedByteByByte(ch, stream) : feedRandom(ch, stream, random, round * 3);
      assertEquals(expected.size(), frames.size());
      for (int i = 0; i < frames.size(); i++) {
        assertEquals(expected.get(i), text(frames.get(i)));
        assertEquals("key:" + i, frames.get(i).argString(1));
      }
      assertArrayEquals(stream, joined(frames));
      release(frames);
      assertFalse(ch.finish());
    }
  }

  @Test
  void emptyCommandsAreIgnoredLikeRedisDoes() {
    EmbeddedChannel ch = channel();
    List<RespFrame> frames = feedWhole(ch, bytes("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"));
    assertEquals(1, frames.size());
    assertEquals("*1\r\n$4\r\nPING\r\n", text(frames.get(0)));
    release(frames);
    assertFalse(ch.finish());
  }

  static Stream<Arguments> inlineCommands() {
    return Stream.of(
        Arguments.of("PING\r\n", new String[] {"PING"}),
        Arguments.of("PING\n", new String[] {"PING"}),
        Arguments.of("  set   key  value  \r\n", new String[] {"set", "key", "value"}),
        Arguments.of("SET k \"hello world\\n\"\r\n", new String[] {"SET", "k", "hello world\n"}),
        Arguments.of("SET k \"\\x41\\x62\\\"q\\\\\"\r\n", new String[] {"SET", "k", "Ab\"q\\"}),
        Arguments.of("SET 'it\\'s' \"\"\r\n", new String[] {"SET", "it's", ""}),
        Arguments.of("GET a\"b c\"\r\n", new String[] {"GET", "ab c"}),
        Arguments.of("ECHO h\u00e9llo\r\n", new String[] {"ECHO", "h\u00e9llo"}));
  }

  @ParameterizedTest
  @MethodSource("inlineCommands")
  void inlineCommandsBecomeRespArrays(String line, String[] words) {
    EmbeddedChannel ch = channel();
    List<RespFrame> frames = feedByteByByte(ch, bytes(line));
    assertEquals(1, frames.size());
    RespFrame frame = frames.get(0);
    StringBuilder canonical = new StringBuilder("*").append(words.length).append("\r\n");
    for (String word : words) {
      canonical.append('$').append(bytes(word).length).append("\r\n").append(word).append("\r\n");
    }
    assertEquals(canonical.toString(), text(frame));
    assertEquals(words.length, frame.argCount());
    for (int i = 0; i < words.length; i++) {
      assertEquals(words[i], frame.argString(i));
    }
    assertEquals(words[0].toUpperCase(), frame.commandName());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void blankInlineLinesAreIgnoredAndInlineMixesWithResp() {
    EmbeddedChannel ch = channel();
    List<RespFrame> frames =
        feedWhole(ch, bytes("\r\n   \r\nPING\r\n*1\r\n$4\r\nPING\r\nECHO x\n"));
    assertEquals(3, frames.size());
    assertEquals("*1\r\n$4\r\nPING\r\n", text(frames.get(0)));
    assertEquals("*1\r\n$4\r\nPING\r\n", text(frames.get(1)));
    assertEquals("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", text(frames.get(2)));
    release(frames);
    assertFalse(ch.finish());
  }

  static Stream<Arguments> invalidCommands() {
    return Stream.of(
        Arguments.of("*1\r\n+PING\r\n", "expected '$', got '+'"),
        Arguments.of("*2\r\n$3\r\nGET\r\n*1\r\n", "expected '$', got '*'"),
        Arguments.of("*1\r\n:1\r\n", "expected '$', got ':'"),
        Arguments.of("*1\r\n$-1\r\n", "invalid bulk length"),
        Arguments.of("*1\r\n$x\r\n", "invalid bulk length"),
        Arguments.of("*1\r\n$12345678901234567890123\r\n", "invalid bulk length"),
        Arguments.of("*-2\r\n", "invalid multibulk length"),
        Arguments.of("*x\r\n", "invalid multibulk length"),
        Arguments.of("*1\n$4\r\nPING\r\n", "expected CRLF after '*' line"),
        Arguments.of("*1\r\n$3\r\nGETxx", "expected CRLF after bulk payload"),
        Arguments.of("*1\r\n$999999999\r\n", "bulk length 999999999 exceeds max 1048576"),
        Arguments.of("*9999999\r\n", "frame of at least 60000004 bytes exceeds max 1048576"),
        Arguments.of("SET \"a\r\n", "unbalanced quotes in request"),
        Arguments.of("SET \"a\"b\r\n", "unbalanced quotes in request"),
        Arguments.of("SET 'a\r\n", "unbalanced quotes in request"),
        Arguments.of(repeat('a', RespFrameDecoder.MAX_INLINE_BYTES), "too big inline request"));
  }

  @ParameterizedTest
  @MethodSource("invalidCommands")
  void invalidInputFailsAndPoisonsTheDecoder(String input, String message) {
    EmbeddedChannel ch = channel();
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes(input))));
    assertEquals(message, e.getMessage());
    assertFalse(ch.writeInbound(Unpooled.wrappedBuffer(bytes("*1\r\n$4\r\nPING\r\n"))));
    assertFalse(ch.finish());
  }

  @ParameterizedTest
  @MethodSource("invalidCommands")
  void invalidInputFailsInRandomFragments(String input, String message) {
    EmbeddedChannel ch = channel();
    byte[] data = bytes(input);
    Random random = new Random(input.hashCode());
    RespCodecException error = null;
    for (int at = 0; at < data.length && error == null; ) {
      int n = Math.min(data.length - at, 1 + random.nextInt(5));
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(data, at, n));
      } catch (RespCodecException e) {
        error = e;
      }
      at += n;
    }
    assertTrue(error != null, "no error for " + input);
    assertEquals(message, error.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void oversizedBulkIsRefusedFromItsHeaderAlone() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REQUEST, 64 << 20));
    assertFalse(ch.writeInbound(Unpooled.wrappedBuffer(bytes("*2\r\n$3\r\nGET\r\n"))));
    RespCodecException e = assertThrows(RespCodecException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes("$999999999\r\n"))));
    assertEquals("bulk length 999999999 exceeds max 67108864", e.getMessage());
    assertFalse(ch.finish());
  }

  @Test
  void tenMegabyteValueInChunksIsSkippedByLength() {
    int size = 10 * 1024 * 1024;
    byte[] payload = new byte[size];
    new Random(3).nextBytes(payload);
    byte[] data = concat(bytes("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + size + "\r\n"), payload,
        bytes("\r\n*1\r\n$4\r\nPING\r\n"));
    RespFrameDecoder decoder = new RespFrameDecoder(Mode.REQUEST, 64 * 1024 * 1024);
    EmbeddedChannel ch = RespTestSupport.untrackedChannel(decoder);
    List<RespFrame> frames = new ArrayList<>();
    long start = System.nanoTime();
    for (int at = 0; at < data.length; at += 65536) {
      int len = Math.min(65536, data.length - at);
      ByteBuf piece = ch.alloc().buffer(len).writeBytes(data, at, len);
      ch.writeInbound(piece);
      frames.addAll(drain(ch));
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(2, frames.size());
    RespFrame set = frames.get(0);
    assertEquals("SET", set.commandName());
    assertEquals(size, set.argLength(2));
    assertArrayEquals(payload, ByteBufUtil.getBytes(set.arg(2)));
    assertEquals("PING", frames.get(1).commandName());
    assertTrue(decoder.scannedBytes() < 64, "scanned " + decoder.scannedBytes());
    assertTrue(millis < 5_000, "took " + millis + " ms");
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void hundredThousandArgumentsInChunksAreScannedOnce() {
    int n = 100_000;
    StringBuilder sb = new StringBuilder("*").append(n + 1).append("\r\n$3\r\nDEL\r\n");
    for (int i = 0; i < n; i++) {
      String key = "k" + i;
      sb.append('$').append(key.length()).append("\r\n").append(key).append("\r\n");
    }
    byte[] data = bytes(sb.toString());
    RespFrameDecoder decoder = new RespFrameDecoder(Mode.REQUEST, 64 * 1024 * 1024);
    EmbeddedChannel ch = RespTestSupport.untrackedChannel(decoder);
    List<RespFrame> frames = new ArrayList<>();
    for (int at = 0; at < data.length; at += 65536) {
      ch.writeInbound(Unpooled.wrappedBuffer(data, at, Math.min(65536, data.length - at)));
      frames.addAll(drain(ch));
    }
    assertEquals(1, frames.size());
    RespFrame frame = frames.get(0);
    assertEquals(n + 1, frame.argCount());
    assertEquals("k0", frame.argString(1));
    assertEquals("k99999", frame.argString(n));
    assertTrue(decoder.scannedBytes() <= data.length,
        "scanned " + decoder.scannedBytes() + " of " + data.length);
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void singleDecodeEmitsOneFramePerCall() {
    RespFrameDecoder decoder = new RespFrameDecoder(Mode.REQUEST, MAX);
    decoder.setSingleDecode(true);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    List<RespFrame> frames = feedWhole(ch, bytes("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"));
    assertEquals(1, frames.size());
    release(frames);
    assertTrue(ch.finish(), "the second frame is decoded when the channel closes");
    frames = drain(ch);
    assertEquals(1, frames.size());
    release(frames);
  }

  @Test
  void constructorRejectsBadLimits() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RespFrameDecoder(Mode.REQUEST, 0));
    assertEquals("maxFrameBytes: 0 (expected: > 0)", e.getMessage());
  }
}

package io.mproxy.protocol.redis.codec;

import static io.mproxy.protocol.redis.codec.RespTestSupport.bytes;
import static io.mproxy.protocol.redis.codec.RespTestSupport.feedWhole;
import static io.mproxy.protocol.redis.codec.RespTestSupport.release;
import static io.mproxy.protocol.redis.codec.RespTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrameDecoder.Mode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RespFrameTest {

  private static RespFrame decodeOne(String command) {
    return decodeOne(bytes(command));
  }

  private static RespFrame decodeOne(byte[] command) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REQUEST, 1 << 20));
    List<RespFrame> frames = feedWhole(ch, command);
    assertEquals(1, frames.size());
    assertFalse(ch.finish());
    return frames.get(0);
  }

  @Test
  void commandNameIsUpperCasedAndCached() {
    RespFrame frame = decodeOne("*2\r\n$6\r\nclIenT\r\n$4\r\nlist\r\n");
    try {
      assertEquals("CLIENT", frame.commandName());
      assertTrue(frame.commandName() == frame.commandName());
      assertTrue(frame.argEqualsIgnoreCase(1, "LIST"));
      assertTrue(frame.argEqualsIgnoreCase(1, "list"));
      assertFalse(frame.argEqualsIgnoreCase(1, "LIS"));
      assertFalse(frame.argEqualsIgnoreCase(1, "LISP"));
    } finally {
      frame.release();
    }
  }

  /** The name rule spelled out: the first 64 bytes, {@code a-z} upper-cased, other bytes as Latin-1. */
  private static String expectedName(byte[] name) {
    int length = Math.min(name.length, RespFrame.MAX_COMMAND_NAME);
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      int b = name[i] & 0xff;
      chars[i] = (char) (b >= 'a' && b <= 'z' ? b - 32 : b);
    }
    return new String(chars);
  }

  /** A command of {@code name} then {@code tail} (the bytes after the name's CRLF, e.g. a key). */
  private static RespFrame commandWithName(byte[] name, String tail) {
    byte[] head = ("*" + (tail.isEmpty() ? 1 : 2) + "\r\n$" + name.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] rest = ("\r\n" + tail).getBytes(StandardCharsets.ISO_8859_1);
    return decodeOne(RespTestSupport.concat(head, name, rest));
  }

  @Test
  void everyByteAtEveryPositionOfShortNamesIsUpperCasedAsTheRuleSays() {
    // names of 0..9 bytes, in a frame with a key after them (one 8-byte read) and alone at the
    // frame's end (byte by byte): every byte value at every position
    for (String tail : new String[] {"$16\r\nkey:__rand_int__\r\n", ""}) {
      for (int length = 0; length <= 9; length++) {
        for (int position = 0; position < Math.max(1, length); position++) {
          for (int b = 0; b < 256; b++) {
            byte[] name = new byte[length];
            for (int k = 0; k < length; k++) {
              name[k] = (byte) "gEt:xY_z9".charAt(k);
            }
            if (length > 0) {
              name[position] = (byte) b;
            }
            RespFrame frame = commandWithName(name, tail);
            try {
              String actual = frame.commandName();
              assertEquals(expectedName(name), actual, "name bytes " + java.util.Arrays.toString(name));
              RespFrame again = commandWithName(name, tail);
              try {
                assertTrue(actual == again.commandName() || length == 0, "the same name is one string");
              } finally {
                again.release();
              }
            } finally {
              frame.release();
            }
          }
        }
      }
    }
  }

  @Test
  void upperCasingEightBytesAtOnceMatchesOneAtATime() {
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 100_000; i++) {
      long x = random.nextLong();
      long expected = 0;
      for (int k = 7; k >= 0; k--) {
        int b = (int) (x >>> (8 * k)) & 0xff;
        expected = expected << 8 | (b >= 'a' && b <= 'z' ? b - 32 : b);
      }
      assertEquals(expected, RespFrame.upperAscii(x));
    }
    assertEquals(RespFrame.upperAscii(0x6061627A7B404142L), 0x6041425A7B404142L);
  }

  @Test
  void veryLongCommandNamesAreCut() {
    String name = "x".repeat(1000);
    RespFrame frame = RespFrame.command(ByteBufAllocator.DEFAULT, name);
    try {
      assertEquals("X".repeat(RespFrame.MAX_COMMAND_NAME), frame.commandName());
    } finally {
      frame.release();
    }
  }

  @Test
  void argumentsAreSlicesOfTheContent() {
    RespFrame frame = decodeOne("*3\r\n$3\r\nSET\r\n$4\r\nk\u00e9y\r\n$3\r\n-42\r\n");
    try {
      assertEquals(3, frame.argCount());
      ByteBuf key = frame.arg(1);
      assertEquals(4, key.readableBytes());
      assertEquals(1, frame.content().refCnt(), "arg() does not retain");
      assertEquals("k\u00e9y", frame.argString(1));
      assertEquals(-42, frame.argLong(2));
      assertEquals(-1, frame.argNonNegativeInt(2));
      assertThrows(IndexOutOfBoundsException.class, () -> frame.arg(3));
      assertThrows(IndexOutOfBoundsException.class, () -> frame.argString(-1));
    } finally {
      frame.release();
    }
  }

  @Test
  void argLongFollowsRedisIntegerRules() {
    RespFrame frame = RespFrame.command(ByteBufAllocator.DEFAULT, "X", "0", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "+1", " 1", "1.5", "", "-", "12abc");
    try {
      assertEquals(0, frame.argLong(1));
      assertEquals(Long.MAX_VALUE, frame.argLong(2));
      assertEquals(Long.MIN_VALUE, frame.argLong(3));
      for (int i = 4; i < frame.argCount(); i++) {
        int index = i;
        assertThrows(NumberFormatException.class, () -> frame.argLong(index), "arg " + i);
        assertEquals(-1, frame.argNonNegativeInt(index));
      }
      assertEquals(0, frame.argNonNegativeInt(1));
      assertEquals(-1, frame.argNonNegativeInt(2), "does not fit an int");
    } finally {
      frame.release();
    }
  }

  @Test
  void offsetsSurviveReadingTheContent() {
    RespFrame frame = decodeOne("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    try {
      frame.content().skipBytes(frame.content().readableBytes());
      assertEquals("k", frame.argString(1));
      RespFrame copy = frame.copy();
      try {
        assertEquals("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", text(copy));
        assertEquals("GET", copy.commandName());
        assertEquals("k", copy.argString(1));
      } finally {
        copy.release();
      }
      RespFrame duplicate = frame.retainedDuplicate();
      assertEquals(2, frame.refCnt());
      assertEquals("k", duplicate.argString(1));
      duplicate.release();
    } finally {
      frame.release();
    }
  }

  @Test
  void builtCommandsMatchDecodedOnes() {
    RespFrame built = RespFrame.command(ByteBufAllocator.DEFAULT, "HSET", "h", "f", "v");
    RespFrame decoded = decodeOne("*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n");
    try {
      assertEquals(text(decoded), text(built));
      assertEquals(decoded.argCount(), built.argCount());
      for (int i = 0; i < built.argCount(); i++) {
        assertEquals(decoded.argOffset(i), built.argOffset(i));
        assertEquals(decoded.argLength(i), built.argLength(i));
      }
      assertEquals("RespFrame(command HSET argc=4, 35 bytes)", built.toString());
    } finally {
      release(List.of(built, decoded));
    }
  }

  @Test
  void replyFramesHaveNoArguments() {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REPLY, 1 << 20));
    List<RespFrame> frames = feedWhole(ch, bytes("-ERR no\r\n"));
    RespFrame frame = frames.get(0);
    assertFalse(frame.isCommand());
    assertEquals(0, frame.argCount());
    assertEquals("", frame.commandName());
    assertTrue(frame.isError());
    assertThrows(IndexOutOfBoundsException.class, () -> frame.arg(0));
    assertEquals("RespFrame(reply '-', 9 bytes)", frame.toString());
    release(frames);
    assertFalse(ch.finish());
  }

  @Test
  void encoderForwardsTheOriginalBytes() {
    EmbeddedChannel ch = new EmbeddedChannel(RespFrameEncoder.INSTANCE);
    RespFrame frame = RespFrame.command(ByteBufAllocator.DEFAULT, "PING");
    assertTrue(ch.writeOutbound(frame));
    ByteBuf out = ch.readOutbound();
    assertEquals("*1\r\n$4\r\nPING\r\n", text(out));
    out.release();
    assertEquals(0, frame.refCnt());
    assertFalse(ch.finish());
  }
}

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
import java.util.List;
import org.junit.jupiter.api.Test;

class RespFrameTest {

  private static RespFrame decodeOne(String command) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(Mode.REQUEST, 1 << 20));
    List<RespFrame> frames = feedWhole(ch, bytes(command));
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

package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Feeding bytes to a decoder in pieces and collecting what it emits. */
final class RespTestSupport {

  private RespTestSupport() {
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] concat(byte[]... parts) {
    int size = 0;
    for (byte[] part : parts) {
      size += part.length;
    }
    byte[] all = new byte[size];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, all, at, part.length);
      at += part.length;
    }
    return all;
  }

  /**
   * A channel for the throughput tests. Paranoid leak detection records a stack trace on every
   * buffer access, which would measure the detector rather than the decoder; these tests use an
   * allocator without it (leaks are covered by all the other tests).
   */
  static EmbeddedChannel untrackedChannel(RespFrameDecoder decoder) {
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ch.config().setAllocator(new UnpooledByteBufAllocator(false, true));
    return ch;
  }

  /** Writes {@code data} in one piece and returns the frames it produced. */
  static List<RespFrame> feedWhole(EmbeddedChannel ch, byte[] data) {
    ch.writeInbound(Unpooled.wrappedBuffer(data));
    return drain(ch);
  }

  /** Writes {@code data} one byte at a time, asserting nothing comes out before the last byte. */
  static List<RespFrame> feedByteByByte(EmbeddedChannel ch, byte[] data) {
    List<RespFrame> frames = new ArrayList<>();
    for (int i = 0; i < data.length; i++) {
      ch.writeInbound(Unpooled.wrappedBuffer(data, i, 1));
      frames.addAll(drain(ch));
    }
    return frames;
  }

  /** Writes {@code data} in random pieces of 1 to {@code maxPiece} bytes. */
  static List<RespFrame> feedRandom(EmbeddedChannel ch, byte[] data, Random random, int maxPiece) {
    List<RespFrame> frames = new ArrayList<>();
    int at = 0;
    while (at < data.length) {
      int n = Math.min(data.length - at, 1 + random.nextInt(maxPiece));
      ByteBuf piece = ch.alloc().buffer(n).writeBytes(data, at, n);
      ch.writeInbound(piece);
      frames.addAll(drain(ch));
      at += n;
    }
    return frames;
  }

  static List<RespFrame> drain(EmbeddedChannel ch) {
    List<RespFrame> frames = new ArrayList<>();
    for (Object o; (o = ch.readInbound()) != null; ) {
      frames.add((RespFrame) o);
    }
    return frames;
  }

  static byte[] content(RespFrame frame) {
    return ByteBufUtil.getBytes(frame.content(), 0, frame.size());
  }

  static String text(RespFrame frame) {
    return new String(content(frame), StandardCharsets.UTF_8);
  }

  static String text(ByteBuf buf) {
    return buf.toString(StandardCharsets.UTF_8);
  }

  static byte[] joined(List<RespFrame> frames) {
    byte[][] parts = new byte[frames.size()][];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = content(frames.get(i));
    }
    return concat(parts);
  }

  static void release(List<?> messages) {
    for (Object message : messages) {
      ReferenceCountUtil.release(message);
    }
  }

  static String repeat(char c, int n) {
    char[] chars = new char[n];
    Arrays.fill(chars, c);
    return new String(chars);
  }
}

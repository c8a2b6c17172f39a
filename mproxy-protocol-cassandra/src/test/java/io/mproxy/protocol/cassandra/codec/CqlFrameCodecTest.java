package io.mproxy.protocol.cassandra.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CqlFrameCodecTest {

  private static final int MAX = 1 << 20;

  /** OPTIONS, v4, stream 7: header only. */
  private static final byte[] OPTIONS_V4 = {0x04, 0x00, 0x00, 0x07, 0x05, 0, 0, 0, 0};

  @Test
  void legacyFrameWholeAndByteByByte() {
    byte[] query = request(4, 3, CqlOpcode.QUERY, "SELECT 1".getBytes());
    for (boolean bytewise : new boolean[] {false, true}) {
      EmbeddedChannel ch = new EmbeddedChannel(new CqlFrameDecoder(false, MAX));
      List<CqlFrame> frames = feed(ch, concat(OPTIONS_V4, query), bytewise);
      assertEquals(2, frames.size());
      assertEquals(CqlOpcode.OPTIONS, frames.get(0).opcode());
      assertEquals(7, frames.get(0).stream());
      assertEquals(4, frames.get(0).version());
      assertEquals("SELECT 1", frames.get(1).body().toString(java.nio.charset.StandardCharsets.UTF_8));
      frames.forEach(CqlFrame::release);
      assertFalse(ch.finish());
    }
  }

  @Test
  void v5SegmentKnownBytes() {
    // an OPTIONS envelope (v5, stream 1) in one self-contained segment; CRC32 computed with zlib
    byte[] envelope = {0x05, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0};
    ByteBuf seg = Unpooled.buffer();
    seg.writeMediumLE(envelope.length | 1 << 17);
    seg.writeMediumLE(Crc.crc24(seg, 0, 3));
    seg.writeBytes(envelope);
    seg.writeIntLE(0x867455b5);
    assertEquals(0x867455b5, Crc.crc32(Unpooled.wrappedBuffer(envelope), 0, envelope.length));
    EmbeddedChannel ch = new EmbeddedChannel(new CqlFrameDecoder(false, MAX));
    ((CqlFrameDecoder) ch.pipeline().first()).switchToSegments();
    List<CqlFrame> frames = feed(ch, ByteBufUtil.getBytes(seg), true);
    assertEquals(1, frames.size());
    assertEquals(CqlOpcode.OPTIONS, frames.get(0).opcode());
    assertEquals(5, frames.get(0).version());
    frames.forEach(CqlFrame::release);
    assertFalse(ch.finish());
  }

  @Test
  void segmentsRoundTripSmallAndSpanning() {
    Random random = new Random(42);
    byte[] small = new byte[100];
    byte[] big = new byte[300_000];
    random.nextBytes(small);
    random.nextBytes(big);
    EmbeddedChannel enc = new EmbeddedChannel(new CqlFrameEncoder());
    ((CqlFrameEncoder) enc.pipeline().first()).switchToSegments();
    enc.writeOutbound(new CqlFrame(5, true, 0, 9, CqlOpcode.RESULT, Unpooled.wrappedBuffer(small)));
    enc.writeOutbound(new CqlFrame(5, true, 0, -1, CqlOpcode.EVENT, Unpooled.wrappedBuffer(big)));
    byte[] wire = drainOutbound(enc);
    assertFalse(enc.finish());
    // 100+9 in one segment, 300009 in three: 4 segment headers and trailers
    assertEquals(100 + 9 + 300_000 + 9 + 4 * 10, wire.length);

    for (int chunk : new int[] {wire.length, 4093, 7}) {
      CqlFrameDecoder decoder = new CqlFrameDecoder(true, MAX);
      decoder.switchToSegments();
      EmbeddedChannel dec = new EmbeddedChannel(decoder);
      List<CqlFrame> frames = feed(dec, chunk == 7 ? java.util.Arrays.copyOf(wire, 100 + 9 + 10) : wire, chunk);
      if (chunk == 7) {
        assertEquals(1, frames.size());
        assertArrayEquals(small, ByteBufUtil.getBytes(frames.get(0).body()));
        frames.forEach(CqlFrame::release);
        assertFalse(dec.finish());
        continue;
      }
      assertEquals(2, frames.size());
      assertArrayEquals(small, ByteBufUtil.getBytes(frames.get(0).body()));
      assertEquals(9, frames.get(0).stream());
      assertArrayEquals(big, ByteBufUtil.getBytes(frames.get(1).body()));
      assertEquals(-1, frames.get(1).stream());
      frames.forEach(CqlFrame::release);
      assertFalse(dec.finish());
    }
  }

  @Test
  void envelopesWrittenBetweenFlushesTravelInOneSegment() {
    EmbeddedChannel enc = new EmbeddedChannel(new CqlFrameEncoder());
    ((CqlFrameEncoder) enc.pipeline().first()).switchToSegments();
    byte[] large = new byte[5000];
    new Random(7).nextBytes(large);
    for (int stream = 1; stream <= 3; stream++) {
      enc.write(new CqlFrame(5, true, 0, stream, CqlOpcode.RESULT, Unpooled.wrappedBuffer(new byte[] {(byte) stream})),
          enc.voidPromise());
    }
    enc.write(new CqlFrame(5, true, 0, 4, CqlOpcode.RESULT, Unpooled.wrappedBuffer(large)), enc.voidPromise());
    enc.write(new CqlFrame(5, true, 0, 5, CqlOpcode.RESULT, Unpooled.wrappedBuffer(new byte[] {5})), enc.voidPromise());
    enc.flush();
    byte[] wire = drainOutbound(enc);
    assertFalse(enc.finish());
    // streams 1-3 in one segment, the large body in a segment of its own, stream 5 in a third
    // (void promises, as the session and the backend handler write)
    assertEquals(3 * (9 + 1) + (9 + 5000) + (9 + 1) + 3 * 10, wire.length);
    assertEquals(3 * (9 + 1), (wire[0] & 0xFF | (wire[1] & 0xFF) << 8 | (wire[2] & 0x01) << 16));
    CqlFrameDecoder decoder = new CqlFrameDecoder(true, MAX);
    decoder.switchToSegments();
    EmbeddedChannel dec = new EmbeddedChannel(decoder);
    List<CqlFrame> frames = feed(dec, wire, wire.length);
    assertEquals(List.of(1, 2, 3, 4, 5), frames.stream().map(CqlFrame::stream).toList(), "in the order written");
    assertArrayEquals(new byte[] {2}, ByteBufUtil.getBytes(frames.get(1).body()));
    assertArrayEquals(large, ByteBufUtil.getBytes(frames.get(3).body()));
    frames.forEach(CqlFrame::release);
    assertFalse(dec.finish());
  }

  @Test
  void severalEnvelopesInOneSegment() {
    byte[] two = concat(request(5, 1, CqlOpcode.OPTIONS, new byte[0]), request(5, 2, CqlOpcode.QUERY, new byte[] {1, 2}));
    ByteBuf seg = Unpooled.buffer();
    seg.writeMediumLE(two.length | 1 << 17);
    seg.writeMediumLE(Crc.crc24(seg, 0, 3));
    seg.writeBytes(two);
    seg.writeIntLE(Crc.crc32(Unpooled.wrappedBuffer(two), 0, two.length));
    CqlFrameDecoder decoder = new CqlFrameDecoder(false, MAX);
    decoder.switchToSegments();
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    List<CqlFrame> frames = feed(ch, ByteBufUtil.getBytes(seg), false);
    assertEquals(List.of(1, 2), frames.stream().map(CqlFrame::stream).toList());
    frames.forEach(CqlFrame::release);
    assertFalse(ch.finish());
  }

  @Test
  void corruptSegmentHeaderOrPayloadIsAProtocolError() {
    byte[] env = request(5, 1, CqlOpcode.OPTIONS, new byte[0]);
    ByteBuf seg = Unpooled.buffer();
    seg.writeMediumLE(env.length | 1 << 17);
    seg.writeMediumLE(Crc.crc24(seg, 0, 3));
    seg.writeBytes(env);
    seg.writeIntLE(Crc.crc32(Unpooled.wrappedBuffer(env), 0, env.length));
    byte[] good = ByteBufUtil.getBytes(seg);
    byte[] badHeader = good.clone();
    badHeader[3] ^= 0x01;
    byte[] badPayload = good.clone();
    badPayload[8] ^= 0x40;
    assertEquals("segment header CRC24 mismatch", segmentError(badHeader).getMessage());
    assertEquals("segment payload CRC32 mismatch", segmentError(badPayload).getMessage());
  }

  @Test
  void unsupportedVersionsAreAnsweredTheWayCassandraDoes() {
    CqlCodecException newer = legacyError(new byte[] {0x42, 0, 0, 3, 0x05, 0, 0, 0, 0});
    assertEquals(5, newer.replyVersion(), "a newer version is answered in v5");
    assertEquals(3, newer.stream());
    assertTrue(newer.getMessage().startsWith("Invalid or unsupported protocol version (66)"), newer.getMessage());
    CqlCodecException v3 = legacyError(new byte[] {0x03, 0, 0, 1, 0x05, 0, 0, 0, 0});
    assertEquals(3, v3.replyVersion(), "an older version is answered in its own");
    CqlCodecException v2 = legacyError(new byte[] {0x02, 0, 5, 0x05, 0, 0, 0, 0});
    assertEquals(2, v2.replyVersion());
    assertEquals(5, v2.stream(), "v1/v2 headers have a one-byte stream");
  }

  @Test
  void malformedHeaders() {
    assertTrue(legacyError(new byte[] {0x04, 0, 0, 1, 0x04, 0, 0, 0, 0}).getMessage().startsWith("Unknown opcode 4"));
    assertTrue(legacyError(new byte[] {0x04, 0, (byte) 0x80, 1, 0x05, 0, 0, 0, 0}).getMessage().contains("out of range"));
    assertTrue(legacyError(new byte[] {0x04, 0, 0, 1, 0x07, 0x7f, 0, 0, 0}).getMessage().startsWith("Request is too big"));
    assertTrue(legacyError(new byte[] {0x04, 0, 0, 1, 0x07, (byte) 0xff, 0, 0, 0}).getMessage().startsWith("Request is too big"));
    assertTrue(legacyError(new byte[] {(byte) 0x84, 0, 0, 1, 0x02, 0, 0, 0, 0}).getMessage().startsWith("expected a request"));
    // a second frame of another version on the same connection
    EmbeddedChannel ch = new EmbeddedChannel(new CqlFrameDecoder(false, MAX));
    ch.writeInbound(Unpooled.wrappedBuffer(OPTIONS_V4));
    ((CqlFrame) ch.readInbound()).release();
    DecoderException e = assertThrows(DecoderException.class,
        () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x05, 0, 0, 1, 0x05, 0, 0, 0, 0})));
    assertTrue(e.getMessage().contains("previous messages on this connection had version 4"));
    // after an error everything is discarded
    ch.writeInbound(Unpooled.wrappedBuffer(OPTIONS_V4));
    assertFalse(ch.finish());
  }

  @Test
  void legacyEncoderWritesHeaderAndBody() {
    EmbeddedChannel enc = new EmbeddedChannel(new CqlFrameEncoder());
    enc.writeOutbound(new CqlFrame(4, true, 0, 7, CqlOpcode.READY, Unpooled.EMPTY_BUFFER));
    assertArrayEquals(new byte[] {(byte) 0x84, 0, 0, 7, 0x02, 0, 0, 0, 0}, drainOutbound(enc));
    assertFalse(enc.finish());
  }

  // ------------------------------------------------------------------ helpers

  private static CqlCodecException segmentError(byte[] wire) {
    CqlFrameDecoder decoder = new CqlFrameDecoder(false, MAX);
    decoder.switchToSegments();
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(wire)));
    assertFalse(ch.finish());
    return assertInstanceOf(CqlCodecException.class, e);
  }

  private static CqlCodecException legacyError(byte[] wire) {
    EmbeddedChannel ch = new EmbeddedChannel(new CqlFrameDecoder(false, 1 << 16));
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(wire)));
    assertFalse(ch.finish());
    return assertInstanceOf(CqlCodecException.class, e);
  }

  static byte[] request(int version, int stream, int opcode, byte[] body) {
    ByteBuf b = Unpooled.buffer();
    b.writeByte(version).writeByte(0).writeShort(stream).writeByte(opcode).writeInt(body.length).writeBytes(body);
    return ByteBufUtil.getBytes(b);
  }

  static byte[] concat(byte[]... parts) {
    ByteBuf b = Unpooled.buffer();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return ByteBufUtil.getBytes(b);
  }

  static List<CqlFrame> feed(EmbeddedChannel ch, byte[] data, boolean bytewise) {
    return feed(ch, data, bytewise ? 1 : data.length);
  }

  /** Writes {@code data} in pieces of {@code chunk} bytes and returns the frames decoded. */
  static List<CqlFrame> feed(EmbeddedChannel ch, byte[] data, int chunk) {
    List<CqlFrame> frames = new ArrayList<>();
    for (int i = 0; i < data.length; i += chunk) {
      ch.writeInbound(Unpooled.wrappedBuffer(data, i, Math.min(chunk, data.length - i)));
    }
    CqlFrame f;
    while ((f = ch.readInbound()) != null) {
      frames.add(f);
    }
    return frames;
  }

  static byte[] drainOutbound(EmbeddedChannel ch) {
    ByteBuf all = Unpooled.buffer();
    ByteBuf b;
    while ((b = ch.readOutbound()) != null) {
      all.writeBytes(b);
      b.release();
    }
    return ByteBufUtil.getBytes(all);
  }
}

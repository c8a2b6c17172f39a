package io.mproxy.protocol.cassandra.codec;

import static io.mproxy.protocol.cassandra.codec.CqlFrameCodecTest.drainOutbound;
import static io.mproxy.protocol.cassandra.codec.CqlFrameCodecTest.feed;
import static io.mproxy.protocol.cassandra.codec.CqlFrameCodecTest.request;
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
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

/**
 * LZ4 in both CQL layouts, on bytes built here the way the specification (and the Java driver)
 * lay them out: v4 frames with the compression flag and a [length][block] body, v5 compressed
 * segments with the 8-byte header. Also the limits: a declared uncompressed size over the limit
 * is refused before anything is decompressed, and data that does not decompress to exactly the
 * declared size is a protocol error.
 */
class Lz4CodecTest {

  private static final int MAX = 1 << 20;

  /** An LZ4 block made by the library directly (independent of the codec under test). */
  private static byte[] block(byte[] data) {
    return LZ4Factory.safeInstance().fastCompressor().compress(data);
  }

  /** A v4 frame whose body is [uncompressed length][LZ4 block of body]. */
  private static byte[] v4Compressed(int stream, int opcode, byte[] body, int declaredLength) {
    byte[] blk = block(body);
    ByteBuf b = Unpooled.buffer();
    b.writeByte(4).writeByte(CqlFrame.FLAG_COMPRESSION).writeShort(stream).writeByte(opcode)
        .writeInt(4 + blk.length).writeInt(declaredLength).writeBytes(blk);
    return ByteBufUtil.getBytes(b);
  }

  /** One v5 compressed-layout segment around {@code payload} (compressed unless {@code stored}). */
  private static byte[] v5Segment(byte[] payload, boolean stored, boolean selfContained) {
    byte[] wire = stored ? payload : block(payload);
    long bits = wire.length | (long) (stored ? 0 : payload.length) << 17 | (selfContained ? 1L << 34 : 0);
    ByteBuf seg = Unpooled.buffer();
    seg.writeIntLE((int) bits).writeByte((int) (bits >>> 32));
    seg.writeMediumLE(Crc.crc24(seg, 0, 5));
    seg.writeBytes(wire);
    seg.writeIntLE(Crc.crc32(Unpooled.wrappedBuffer(wire), 0, wire.length));
    return ByteBufUtil.getBytes(seg);
  }

  private static byte[] repetitive(int n) {
    byte[] b = new byte[n];
    byte[] word = "SELECT name FROM ks.items WHERE id = ? ".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < n; i++) {
      b[i] = word[i % word.length];
    }
    return b;
  }

  private static CqlFrameDecoder lz4Decoder(boolean responses, int max, boolean segments) {
    CqlFrameDecoder d = new CqlFrameDecoder(responses, max);
    d.compression(true);
    if (segments) {
      d.switchToSegments();
    }
    return d;
  }

  @Test
  void v4CompressedFrameIsDecompressedAndLosesTheFlag() {
    byte[] query = repetitive(5_000);
    EmbeddedChannel ch = new EmbeddedChannel(lz4Decoder(false, MAX, false));
    List<CqlFrame> frames = feed(ch, v4Compressed(11, CqlOpcode.QUERY, query, query.length), true);
    assertEquals(1, frames.size());
    CqlFrame f = frames.get(0);
    assertEquals(CqlOpcode.QUERY, f.opcode());
    assertEquals(11, f.stream());
    assertEquals(0, f.flags() & CqlFrame.FLAG_COMPRESSION);
    assertArrayEquals(query, ByteBufUtil.getBytes(f.body()));
    f.release();
    assertFalse(ch.finish());
  }

  @Test
  void v4UncompressedFramesStillPassWhenCompressionIsOn() {
    EmbeddedChannel ch = new EmbeddedChannel(lz4Decoder(false, MAX, false));
    List<CqlFrame> frames = feed(ch, request(4, 2, CqlOpcode.OPTIONS, new byte[0]), false);
    assertEquals(1, frames.size());
    frames.forEach(CqlFrame::release);
    assertFalse(ch.finish());
  }

  @Test
  void v4EncoderRoundTrip() {
    byte[] body = repetitive(100_000);
    EmbeddedChannel enc = new EmbeddedChannel(new CqlFrameEncoder());
    ((CqlFrameEncoder) enc.pipeline().first()).compression(true);
    enc.writeOutbound(new CqlFrame(4, true, CqlFrame.FLAG_WARNING, 5, CqlOpcode.RESULT, Unpooled.wrappedBuffer(body)));
    enc.writeOutbound(new CqlFrame(4, true, 0, 6, CqlOpcode.READY, Unpooled.EMPTY_BUFFER));
    byte[] wire = drainOutbound(enc);
    assertFalse(enc.finish());
    assertEquals((byte) (CqlFrame.FLAG_COMPRESSION | CqlFrame.FLAG_WARNING), wire[1], "flags keep the warning bit");
    assertEquals(body.length, Unpooled.wrappedBuffer(wire).getInt(CqlFrame.HEADER_BYTES), "length prefix");
    assertTrue(wire.length < body.length / 10, "a repetitive body compresses: " + wire.length);

    EmbeddedChannel dec = new EmbeddedChannel(lz4Decoder(true, MAX, false));
    List<CqlFrame> frames = feed(dec, wire, 333);
    assertEquals(2, frames.size());
    assertArrayEquals(body, ByteBufUtil.getBytes(frames.get(0).body()));
    assertEquals(CqlFrame.FLAG_WARNING, frames.get(0).flags());
    assertEquals(0, frames.get(1).body().readableBytes());
    assertEquals(CqlOpcode.READY, frames.get(1).opcode());
    frames.forEach(CqlFrame::release);
    assertFalse(dec.finish());
  }

  @Test
  void v5CompressedAndStoredSegmentsOfKnownLayout() {
    byte[] env1 = request(5, 1, CqlOpcode.QUERY, repetitive(2_000));
    byte[] env2 = request(5, 2, CqlOpcode.OPTIONS, new byte[0]);
    byte[] wire = CqlFrameCodecTest.concat(v5Segment(env1, false, true), v5Segment(env2, true, true));
    for (int chunk : new int[] {wire.length, 1}) {
      EmbeddedChannel ch = new EmbeddedChannel(lz4Decoder(false, MAX, true));
      List<CqlFrame> frames = feed(ch, wire, chunk);
      assertEquals(List.of(1, 2), frames.stream().map(CqlFrame::stream).toList());
      assertArrayEquals(Arrays.copyOfRange(env1, 9, env1.length), ByteBufUtil.getBytes(frames.get(0).body()));
      frames.forEach(CqlFrame::release);
      assertFalse(ch.finish());
    }
  }

  @Test
  void v5EncoderRoundTripCompressibleIncompressibleAndSpanning() {
    Random random = new Random(7);
    byte[] noise = new byte[400_000];
    random.nextBytes(noise);
    byte[] text = repetitive(400_000);
    byte[] small = repetitive(300);
    EmbeddedChannel enc = new EmbeddedChannel(new CqlFrameEncoder());
    CqlFrameEncoder encoder = (CqlFrameEncoder) enc.pipeline().first();
    encoder.switchToSegments();
    encoder.compression(true);
    enc.writeOutbound(new CqlFrame(5, true, 0, 1, CqlOpcode.RESULT, Unpooled.wrappedBuffer(small)));
    enc.writeOutbound(new CqlFrame(5, true, 0, 2, CqlOpcode.RESULT, Unpooled.wrappedBuffer(noise)));
    enc.writeOutbound(new CqlFrame(5, true, 0, 3, CqlOpcode.RESULT, Unpooled.wrappedBuffer(text)));
    byte[] wire = drainOutbound(enc);
    assertFalse(enc.finish());
    // noise is stored (LZ4 would grow it): about its own size; text shrinks to a fraction
    assertTrue(wire.length < noise.length + 20_000, "wire " + wire.length);
    assertTrue(wire.length > noise.length, "wire " + wire.length);
    // first segment: compressed layout, self-contained, uncompressed length = 9 + 300
    ByteBuf w = Unpooled.wrappedBuffer(wire);
    long header = w.getUnsignedIntLE(0) | (long) w.getUnsignedByte(4) << 32;
    assertEquals(309, (header >>> 17) & CqlFrameDecoder.MAX_SEGMENT_PAYLOAD);
    assertEquals(1, (header >>> 34) & 1);
    assertEquals(Crc.crc24(w, 0, 5), w.getUnsignedMediumLE(5));

    for (int chunk : new int[] {wire.length, 65_537, 4093}) {
      EmbeddedChannel dec = new EmbeddedChannel(lz4Decoder(true, MAX, true));
      List<CqlFrame> frames = feed(dec, wire, chunk);
      assertEquals(3, frames.size());
      assertArrayEquals(small, ByteBufUtil.getBytes(frames.get(0).body()));
      assertArrayEquals(noise, ByteBufUtil.getBytes(frames.get(1).body()));
      assertArrayEquals(text, ByteBufUtil.getBytes(frames.get(2).body()));
      frames.forEach(CqlFrame::release);
      assertFalse(dec.finish());
    }
  }

  @Test
  void v4DeclaredSizeOverTheLimitIsRefusedBeforeDecompressing() {
    // a real bomb: 4 MiB of zeros in a few KiB, declared honestly, against a 64 KiB limit
    byte[] zeros = new byte[4 << 20];
    byte[] bomb = v4Compressed(3, CqlOpcode.QUERY, zeros, zeros.length);
    assertTrue(bomb.length < 20_000, "bomb " + bomb.length);
    CqlCodecException e = error(lz4Decoder(false, 64 * 1024, false), bomb);
    assertTrue(e.getMessage().startsWith("Request is too big: uncompressed length 4194304"), e.getMessage());
    assertEquals(3, e.stream());
    // a lie: 2 GiB declared for a tiny block
    byte[] lie = v4Compressed(4, CqlOpcode.QUERY, new byte[10], Integer.MAX_VALUE);
    assertTrue(error(lz4Decoder(false, MAX, false), lie).getMessage().startsWith("Request is too big"));
  }

  @Test
  void v5EnvelopeOverTheLimitInsideCompressedSegmentsIsRefused() {
    // the first segment of a spanning envelope declares a 10 MiB body: refused at the header,
    // with a 1 MiB limit, before any more segments are gathered
    ByteBuf env = Unpooled.buffer();
    env.writeByte(5).writeByte(0).writeShort(1).writeByte(CqlOpcode.QUERY).writeInt(10 << 20);
    env.writeBytes(new byte[CqlFrameDecoder.MAX_SEGMENT_PAYLOAD - 9]);
    byte[] first = v5Segment(ByteBufUtil.getBytes(env), false, false);
    CqlCodecException e = error(lz4Decoder(false, MAX, true), first);
    assertTrue(e.getMessage().startsWith("Request is too big: length 10485760"), e.getMessage());
  }

  @Test
  void wrongDeclaredLengthOrGarbageIsAProtocolError() {
    byte[] body = repetitive(1_000);
    CqlCodecException shorter = error(lz4Decoder(false, MAX, false), v4Compressed(1, CqlOpcode.QUERY, body, 2_000));
    assertTrue(shorter.getMessage().contains("LZ4"), shorter.getMessage());
    CqlCodecException longer = error(lz4Decoder(false, MAX, false), v4Compressed(1, CqlOpcode.QUERY, body, 500));
    assertTrue(longer.getMessage().contains("LZ4"), longer.getMessage());
    ByteBuf garbage = Unpooled.buffer();
    garbage.writeByte(4).writeByte(CqlFrame.FLAG_COMPRESSION).writeShort(1).writeByte(CqlOpcode.QUERY)
        .writeInt(4 + 8).writeInt(100).writeLong(0xF0F0F0F0F0F0F0F0L);
    assertTrue(error(lz4Decoder(false, MAX, false), ByteBufUtil.getBytes(garbage)).getMessage().contains("LZ4"));
    // v5: a segment whose uncompressed length is wrong
    byte[] seg = v5Segment(request(5, 1, CqlOpcode.OPTIONS, repetitive(500)), false, true);
    ByteBuf s = Unpooled.wrappedBuffer(seg);
    long bits = s.getUnsignedIntLE(0) | (long) s.getUnsignedByte(4) << 32;
    bits = (bits & ~((long) CqlFrameDecoder.MAX_SEGMENT_PAYLOAD << 17)) | 600L << 17;
    ByteBuf fixed = Unpooled.buffer();
    fixed.writeIntLE((int) bits).writeByte((int) (bits >>> 32));
    fixed.writeMediumLE(Crc.crc24(fixed, 0, 5));
    fixed.writeBytes(seg, 8, seg.length - 8);
    assertTrue(error(lz4Decoder(false, MAX, true), ByteBufUtil.getBytes(fixed)).getMessage().contains("LZ4"));
  }

  @Test
  void compressionFlagWithoutNegotiationIsRefused() {
    byte[] frame = v4Compressed(1, CqlOpcode.QUERY, repetitive(100), 100);
    assertTrue(error(new CqlFrameDecoder(false, MAX), frame).getMessage().contains("without compression"));
  }

  @Test
  void theFlagOnAV5EnvelopeIsDropped() {
    // the Java driver flags its v5 envelopes when compression is on; the segment carries it
    byte[] env = request(5, 1, CqlOpcode.QUERY, repetitive(200));
    env[1] = (byte) (CqlFrame.FLAG_COMPRESSION | CqlFrame.FLAG_CUSTOM_PAYLOAD);
    EmbeddedChannel ch = new EmbeddedChannel(lz4Decoder(false, MAX, true));
    List<CqlFrame> frames = feed(ch, v5Segment(env, false, true), false);
    assertEquals(1, frames.size());
    assertEquals(CqlFrame.FLAG_CUSTOM_PAYLOAD, frames.get(0).flags());
    assertArrayEquals(repetitive(200), ByteBufUtil.getBytes(frames.get(0).body()));
    frames.forEach(CqlFrame::release);
    assertFalse(ch.finish());
  }

  private static CqlCodecException error(CqlFrameDecoder decoder, byte[] wire) {
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(wire)));
    assertFalse(ch.finish());
    return assertInstanceOf(CqlCodecException.class, e);
  }
}

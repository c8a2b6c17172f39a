package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes {@link CqlFrame}s: as plain frames until {@link #switchToSegments()}, then as v5
 * segments, one self-contained segment per envelope, or a run of non-self-contained segments for
 * an envelope larger than 128 KiB - 1. Takes over each frame's body; without compression the body
 * is written as is (no copy) in both modes.
 *
 * <p>With {@link #compression(boolean) LZ4} on, a v4 frame's body becomes its 4-byte big-endian
 * length and an LZ4 block (the compression flag set), and v5 segments use the compressed layout:
 * each segment payload is compressed on its own, and sent stored (uncompressed length 0) when
 * LZ4 would not make it smaller, as the specification allows.
 */
public final class CqlFrameEncoder extends MessageToMessageEncoder<CqlFrame> {

  private boolean segments;
  private boolean lz4;

  public CqlFrameEncoder() {
    super(CqlFrame.class);
  }

  /** Frames written after this call travel in v5 segments. */
  public void switchToSegments() {
    segments = true;
  }

  public boolean segments() {
    return segments;
  }

  /** Whether frames written after this call are LZ4-compressed (v4 bodies or v5 segments). */
  public void compression(boolean on) {
    lz4 = on;
  }

  public boolean compression() {
    return lz4;
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, CqlFrame frame, List<Object> out) {
    if (!segments) {
      if (lz4) {
        frame = compressedBody(ctx, frame);
      }
      ByteBuf header = ctx.alloc().buffer(CqlFrame.HEADER_BYTES);
      frame.writeHeader(header);
      out.add(header);
      out.add(frame.body());
      return;
    }
    ByteBuf header = ctx.alloc().buffer(CqlFrame.HEADER_BYTES);
    frame.writeHeader(header);
    if (lz4) {
      compressedSegments(ctx, header, frame.body(), out);
      return;
    }
    int total = frame.size();
    if (total <= CqlFrameDecoder.MAX_SEGMENT_PAYLOAD) {
      out.add(segmentHeader(ctx, total, true));
      int crc = Crc.crc32(header, frame.body());
      out.add(header);
      out.add(frame.body());
      out.add(ctx.alloc().buffer(4).writeIntLE(crc));
      return;
    }
    CompositeByteBuf whole = ctx.alloc().compositeBuffer(2).addComponents(true, header, frame.body());
    try {
      while (whole.isReadable()) {
        int n = Math.min(whole.readableBytes(), CqlFrameDecoder.MAX_SEGMENT_PAYLOAD);
        ByteBuf piece = whole.readRetainedSlice(n);
        out.add(segmentHeader(ctx, n, false));
        int crc = Crc.crc32(piece);
        out.add(piece);
        out.add(ctx.alloc().buffer(4).writeIntLE(crc));
      }
    } finally {
      whole.release();
    }
  }

  /** v4: the same frame with [uncompressed length][LZ4 block] as body and the flag set. */
  private static CqlFrame compressedBody(ChannelHandlerContext ctx, CqlFrame frame) {
    ByteBuf body = frame.body();
    try {
      int n = body.readableBytes();
      ByteBuf block = Lz4.compress(ctx.alloc(), body, body.readerIndex(), n);
      ByteBuf prefix = ctx.alloc().buffer(4).writeInt(n);
      CompositeByteBuf compressed = ctx.alloc().compositeBuffer(2).addComponents(true, prefix, block);
      return new CqlFrame(frame.version(), frame.response(), frame.flags() | CqlFrame.FLAG_COMPRESSION,
          frame.stream(), frame.opcode(), compressed);
    } finally {
      body.release();
    }
  }

  /** v5 with LZ4: header and body cut into payloads of at most 128 KiB - 1, each compressed. */
  private static void compressedSegments(ChannelHandlerContext ctx, ByteBuf header, ByteBuf body, List<Object> out) {
    CompositeByteBuf whole = ctx.alloc().compositeBuffer(2).addComponents(true, header, body);
    try {
      boolean selfContained = whole.readableBytes() <= CqlFrameDecoder.MAX_SEGMENT_PAYLOAD;
      while (whole.isReadable()) {
        int n = Math.min(whole.readableBytes(), CqlFrameDecoder.MAX_SEGMENT_PAYLOAD);
        ByteBuf block = Lz4.compress(ctx.alloc(), whole, whole.readerIndex(), n);
        ByteBuf payload;
        int uncompressed;
        if (block.readableBytes() < n) {
          payload = block;
          uncompressed = n;
          whole.skipBytes(n);
        } else {
          block.release();
          payload = whole.readRetainedSlice(n);
          uncompressed = 0;
        }
        out.add(lz4SegmentHeader(ctx, payload.readableBytes(), uncompressed, selfContained));
        int crc = Crc.crc32(payload);
        out.add(payload);
        out.add(ctx.alloc().buffer(4).writeIntLE(crc));
      }
    } finally {
      whole.release();
    }
  }

  private static ByteBuf segmentHeader(ChannelHandlerContext ctx, int length, boolean selfContained) {
    ByteBuf h = ctx.alloc().buffer(CqlFrameDecoder.SEGMENT_HEADER_BYTES);
    int bits = length | (selfContained ? 1 << 17 : 0);
    h.writeMediumLE(bits);
    h.writeMediumLE(Crc.crc24(h, 0, 3));
    return h;
  }

  /** The 8-byte header of a compressed-layout segment: 5 bytes little-endian, then their CRC24. */
  private static ByteBuf lz4SegmentHeader(ChannelHandlerContext ctx, int length, int uncompressed,
      boolean selfContained) {
    ByteBuf h = ctx.alloc().buffer(CqlFrameDecoder.LZ4_SEGMENT_HEADER_BYTES);
    long bits = length | (long) uncompressed << 17 | (selfContained ? 1L << 34 : 0);
    h.writeIntLE((int) bits);
    h.writeByte((int) (bits >>> 32));
    h.writeMediumLE(Crc.crc24(h, 0, 5));
    return h;
  }
}

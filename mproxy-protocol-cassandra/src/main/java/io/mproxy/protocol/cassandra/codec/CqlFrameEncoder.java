package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Writes {@link CqlFrame}s: as plain frames until {@link #switchToSegments()}, then as v5
 * segments. Takes over each frame's body.
 *
 * <p>Segments: the envelopes written between two flushes are packed into self-contained segments
 * of up to 128 KiB - 1, as Cassandra itself packs them, so a flush of many answers costs one
 * segment header, one CRC32 pass and one buffer instead of four buffers and a CRC32 per envelope.
 * Envelopes of up to {@value #COPY_LIMIT} body bytes are copied into the segment being built; a
 * larger one goes in a segment of its own with its body written as it is (no copy), and one larger
 * than a segment in a run of non-self-contained segments. A write whose promise is not void closes
 * the segment at once and completes with it; anything written that is not a frame (the empty
 * buffer before a close) closes the open segment first, so bytes leave in the order written.
 *
 * <p>With {@link #compression(boolean) LZ4} on, a v4 frame's body becomes its 4-byte big-endian
 * length and an LZ4 block (the compression flag set), and v5 segments use the compressed layout:
 * each segment payload is compressed on its own, and sent stored (uncompressed length 0) when
 * LZ4 would not make it smaller, as the specification allows.
 */
public final class CqlFrameEncoder extends ChannelOutboundHandlerAdapter {

  /** Bodies up to this many bytes are copied into the open segment. */
  static final int COPY_LIMIT = 2048;
  private static final int FIRST_SEGMENT_CAPACITY = 4096;

  private boolean segments;
  private boolean lz4;
  /**
   * The self-contained segment being filled: without LZ4 its 6 header bytes reserved, then the
   * envelopes; with LZ4 the envelopes only (the payload to compress). Null when none is open.
   */
  private ByteBuf open;

  /** Frames written after this call travel in v5 segments. */
  public void switchToSegments() {
    segments = true;
  }

  public boolean segments() {
    return segments;
  }

  /** Whether frames written after this call are LZ4-compressed (v4 bodies or v5 segments). */
  public void compression(boolean on) {
    closeOpenSegment(null);
    lz4 = on;
  }

  public boolean compression() {
    return lz4;
  }

  private ChannelHandlerContext ctx;

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
  }

  @Override
  public void write(ChannelHandlerContext context, Object msg, ChannelPromise promise) {
    if (!(msg instanceof CqlFrame frame)) {
      closeOpenSegment(null);
      context.write(msg, promise);
      return;
    }
    if (!segments) {
      legacy(frame, promise);
      return;
    }
    int bodyBytes = frame.body().readableBytes();
    if (bodyBytes > COPY_LIMIT) {
      closeOpenSegment(null);
      alone(frame, promise);
      return;
    }
    int payload = open == null ? 0 : open.writerIndex() - reserved();
    if (open != null && payload + frame.size() > CqlFrameDecoder.MAX_SEGMENT_PAYLOAD) {
      closeOpenSegment(null);
    }
    if (open == null) {
      open = context.alloc().buffer(FIRST_SEGMENT_CAPACITY);
      open.writerIndex(reserved());
    }
    ByteBuf body = frame.body();
    frame.writeHeader(open);
    open.writeBytes(body, body.readerIndex(), bodyBytes);
    body.release();
    if (!promise.isVoid()) {
      closeOpenSegment(promise);
    }
  }

  @Override
  public void flush(ChannelHandlerContext context) {
    closeOpenSegment(null);
    context.flush();
  }

  @Override
  public void close(ChannelHandlerContext context, ChannelPromise promise) {
    closeOpenSegment(null);
    context.close(promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext context) {
    if (open != null) {
      open.release();
      open = null;
    }
  }

  private int reserved() {
    return lz4 ? 0 : CqlFrameDecoder.SEGMENT_HEADER_BYTES;
  }

  /** Writes the open segment, if any (with {@code promise}, or the void one when null). */
  private void closeOpenSegment(ChannelPromise promise) {
    ByteBuf s = open;
    if (s == null) {
      return;
    }
    open = null;
    ChannelPromise p = promise == null ? ctx.voidPromise() : promise;
    if (lz4) {
      compressedSegments(s, p);
      return;
    }
    int length = s.writerIndex() - CqlFrameDecoder.SEGMENT_HEADER_BYTES;
    putSegmentHeader(s, length, true);
    int crc = Crc.crc32(s, CqlFrameDecoder.SEGMENT_HEADER_BYTES, length);
    s.writeIntLE(crc);
    ctx.write(s, p);
  }

  private void legacy(CqlFrame frame, ChannelPromise promise) {
    if (lz4) {
      frame = compressedBody(frame);
    }
    ByteBuf header = ctx.alloc().buffer(CqlFrame.HEADER_BYTES);
    frame.writeHeader(header);
    ctx.write(header, ctx.voidPromise());
    ctx.write(frame.body(), promise);
  }

  /** An envelope with a large body: a segment of its own (or a run of them), the body not copied. */
  private void alone(CqlFrame frame, ChannelPromise promise) {
    ByteBuf header = ctx.alloc().buffer(CqlFrame.HEADER_BYTES);
    frame.writeHeader(header);
    CompositeByteBuf whole = ctx.alloc().compositeBuffer(2).addComponents(true, header, frame.body());
    if (lz4) {
      compressedSegments(whole, promise);
      return;
    }
    boolean selfContained = whole.readableBytes() <= CqlFrameDecoder.MAX_SEGMENT_PAYLOAD;
    try {
      while (whole.isReadable()) {
        int n = Math.min(whole.readableBytes(), CqlFrameDecoder.MAX_SEGMENT_PAYLOAD);
        ByteBuf piece = whole.readRetainedSlice(n);
        int crc = Crc.crc32(piece);
        ctx.write(segmentHeader(n, selfContained), ctx.voidPromise());
        ctx.write(piece, ctx.voidPromise());
        ctx.write(ctx.alloc().buffer(4).writeIntLE(crc), whole.isReadable() ? ctx.voidPromise() : promise);
      }
    } finally {
      whole.release();
    }
  }

  /** v4: the same frame with [uncompressed length][LZ4 block] as body and the flag set. */
  private CqlFrame compressedBody(CqlFrame frame) {
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

  /** v5 with LZ4: {@code whole} (released here) cut into payloads of at most 128 KiB - 1, each compressed. */
  private void compressedSegments(ByteBuf whole, ChannelPromise promise) {
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
        int crc = Crc.crc32(payload);
        ctx.write(lz4SegmentHeader(payload.readableBytes(), uncompressed, selfContained), ctx.voidPromise());
        ctx.write(payload, ctx.voidPromise());
        ctx.write(ctx.alloc().buffer(4).writeIntLE(crc), whole.isReadable() ? ctx.voidPromise() : promise);
      }
    } finally {
      whole.release();
    }
  }

  private ByteBuf segmentHeader(int length, boolean selfContained) {
    ByteBuf h = ctx.alloc().buffer(CqlFrameDecoder.SEGMENT_HEADER_BYTES);
    h.writerIndex(CqlFrameDecoder.SEGMENT_HEADER_BYTES);
    putSegmentHeader(h, length, selfContained);
    return h;
  }

  /** The 6-byte header of an uncompressed-layout segment into {@code buf}'s first bytes: 3 bytes little-endian, then their CRC24. */
  private static void putSegmentHeader(ByteBuf buf, int length, boolean selfContained) {
    buf.setMediumLE(0, length | (selfContained ? 1 << 17 : 0));
    buf.setMediumLE(3, Crc.crc24(buf, 0, 3));
  }

  /** The 8-byte header of a compressed-layout segment: 5 bytes little-endian, then their CRC24. */
  private ByteBuf lz4SegmentHeader(int length, int uncompressed, boolean selfContained) {
    ByteBuf h = ctx.alloc().buffer(CqlFrameDecoder.LZ4_SEGMENT_HEADER_BYTES);
    long bits = length | (long) uncompressed << 17 | (selfContained ? 1L << 34 : 0);
    h.writeIntLE((int) bits);
    h.writeByte((int) (bits >>> 32));
    h.writeMediumLE(Crc.crc24(h, 0, 5));
    return h;
  }
}

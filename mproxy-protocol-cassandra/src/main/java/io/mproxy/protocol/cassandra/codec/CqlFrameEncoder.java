package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes {@link CqlFrame}s: as plain frames until {@link #switchToSegments()}, then as v5
 * uncompressed segments, one self-contained segment per envelope, or a run of non-self-contained
 * segments for an envelope larger than 128 KiB - 1. Takes over each frame's body; the body is
 * written as is (no copy) in both modes.
 */
public final class CqlFrameEncoder extends MessageToMessageEncoder<CqlFrame> {

  private boolean segments;

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

  @Override
  protected void encode(ChannelHandlerContext ctx, CqlFrame frame, List<Object> out) {
    ByteBuf header = ctx.alloc().buffer(CqlFrame.HEADER_BYTES);
    frame.writeHeader(header);
    if (!segments) {
      out.add(header);
      out.add(frame.body());
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

  private static ByteBuf segmentHeader(ChannelHandlerContext ctx, int length, boolean selfContained) {
    ByteBuf h = ctx.alloc().buffer(CqlFrameDecoder.SEGMENT_HEADER_BYTES);
    int bits = length | (selfContained ? 1 << 17 : 0);
    h.writeMediumLE(bits);
    h.writeMediumLE(Crc.crc24(h, 0, 3));
    return h;
  }
}

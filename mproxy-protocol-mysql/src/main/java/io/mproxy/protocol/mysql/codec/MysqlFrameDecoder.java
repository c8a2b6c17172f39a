package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * {@link PacketFramer} as a pipeline stage: emits one {@link MysqlPacket} per packet (16 MB
 * continuation packets joined), with the framer's rules: a packet over {@code maxPacketBytes} is
 * refused from its header, continuation packets must carry consecutive sequence ids, and after
 * either error ({@link MysqlCodecException}) every further byte is discarded. The proxy's own
 * pipelines frame without a decoder stage (the session and the backend handler read the socket's
 * bytes themselves); this stage is for tests and tools that read MySQL packets from a channel,
 * and it is what the decoder fuzz tests drive, so they exercise the framing the session uses.
 */
public final class MysqlFrameDecoder extends ByteToMessageDecoder {

  /** MySQL's ER_NET_PACKET_TOO_LARGE. */
  public static final int ER_NET_PACKET_TOO_LARGE = 1153;
  /** MySQL's ER_NET_PACKETS_OUT_OF_ORDER. */
  public static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;

  private final PacketFramer framer;

  public MysqlFrameDecoder(long maxPacketBytes) {
    this.framer = new PacketFramer(maxPacketBytes);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!in.isReadable()) {
      return;
    }
    // the framer keeps what it cannot frame yet (and drops everything after an error)
    framer.add(ctx.alloc(), in.readRetainedSlice(in.readableBytes()));
    MysqlPacket packet;
    while ((packet = framer.poll(ctx.alloc())) != null) {
      out.add(packet);
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    framer.release();
  }
}

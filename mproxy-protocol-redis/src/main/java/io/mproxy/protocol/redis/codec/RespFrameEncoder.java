package io.mproxy.protocol.redis.codec;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes a {@link RespFrame} as its original bytes, without copying: the content goes out as a
 * retained view and the frame is released. Stateless and sharable.
 */
@Sharable
public final class RespFrameEncoder extends MessageToMessageEncoder<RespFrame> {

  public static final RespFrameEncoder INSTANCE = new RespFrameEncoder();

  public RespFrameEncoder() {
    super(RespFrame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, RespFrame frame, List<Object> out) {
    out.add(frame.content().retainedSlice(0, frame.size()));
  }
}

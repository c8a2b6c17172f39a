package io.mproxy.protocol.cassandra;

import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * A refused connection (too many clients, too many new connections, shutting down): a CQL error
 * must answer a request's stream, so the refusal answers the client's first frame (the driver's
 * OPTIONS or STARTUP, in the frame's own protocol version) with ERROR Overloaded and closes. A
 * first frame that does not decode is closed without a reply.
 */
final class CqlConnectionRefusal extends ChannelInboundHandlerAdapter {

  private final String message;
  private boolean answered;

  CqlConnectionRefusal(String message) {
    this.message = message;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (answered || !(msg instanceof CqlFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    answered = true;
    int version = frame.version();
    int stream = frame.stream();
    frame.release();
    ctx.channel().config().setAutoRead(false);
    ctx.writeAndFlush(CqlMessages.error(ctx.alloc(), version, stream, CqlMessages.OVERLOADED, message))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}

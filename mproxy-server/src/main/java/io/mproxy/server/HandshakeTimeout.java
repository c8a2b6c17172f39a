package io.mproxy.server;

import io.mproxy.core.time.Scheduler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Closes a client that has not completed its protocol's login within {@code handshake_timeout_ms}
 * (a slowloris sending a byte at a time, or a socket that never speaks), with the protocol's
 * error where it has one. The server installs it first on every accepted channel; the session
 * removes it through {@code ListenerContext.handshakeCompleted} once the client is logged in,
 * which cancels the timer. It forwards every event untouched.
 */
final class HandshakeTimeout extends ChannelInboundHandlerAdapter {

  static final String NAME = "mproxy-handshake-timeout";

  private final Scheduler scheduler;
  private final long timeoutMillis;
  private final Function<ChannelHandlerContext, ByteBuf> refusal;
  private final Runnable onTimeout;
  private Scheduler.Cancellable timer;
  private boolean done;

  /**
   * @param refusal the bytes to send before closing (the protocol's error), or null to just close
   * @param onTimeout counts the close
   */
  HandshakeTimeout(Scheduler scheduler, long timeoutMillis, Function<ChannelHandlerContext, ByteBuf> refusal,
      Runnable onTimeout) {
    this.scheduler = scheduler;
    this.timeoutMillis = timeoutMillis;
    this.refusal = refusal;
    this.onTimeout = onTimeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timer = scheduler.schedule(() -> {
      if (ctx.executor().inEventLoop()) {
        expire(ctx);
      } else {
        ctx.executor().execute(() -> expire(ctx));
      }
    }, TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  private void cancel() {
    done = true;
    Scheduler.Cancellable t = timer;
    if (t != null) {
      t.cancel();
      timer = null;
    }
  }

  private void expire(ChannelHandlerContext ctx) {
    if (done || ctx.isRemoved() || !ctx.channel().isActive()) {
      return;
    }
    done = true;
    onTimeout.run();
    ByteBuf bytes = refusal.apply(ctx);
    if (bytes == null) {
      ctx.close();
      return;
    }
    // through the whole pipeline: on a TLS listener the refusal must pass the SslHandler, which sits
    // after this handler
    ctx.channel().writeAndFlush(bytes).addListener(ChannelFutureListener.CLOSE);
  }
}

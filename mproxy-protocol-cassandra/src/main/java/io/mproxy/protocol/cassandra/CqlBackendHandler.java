package io.mproxy.protocol.cassandra;

import io.mproxy.core.wire.TickFlusher;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFraming;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend connection's multiplexer: every request leaving the proxy gets a free stream id of
 * this connection (whatever id the client used), and the response carrying that id goes back to
 * the request's sink. Events (negative stream ids) are dropped: they name backend addresses,
 * which clients must never see. All state is confined to the connection's event loop;
 * {@link #send} hops there when called from elsewhere.
 */
final class CqlBackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(CqlBackendHandler.class);

  /** Stream ids left free for the proxy's own requests (probes, re-prepares). */
  static final int MAX_IN_FLIGHT = StreamIds.MAX - 64;

  private final StreamIds streams = new StreamIds(StreamIds.MAX);
  private ChannelHandlerContext ctx;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushNow;
  private Throwable closedCause;

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
  }

  /** Writes {@code frame} (taking ownership) on a free stream id. Safe from any thread. */
  void send(CqlFrame frame, ResponseSink sink) {
    if (ctx.executor().inEventLoop()) {
      doSend(frame, sink);
    } else {
      ctx.executor().execute(() -> doSend(frame, sink));
    }
  }

  /** Requests in flight on this connection (event loop only). */
  int inFlight() {
    return streams.inUse();
  }

  /**
   * After the answer to STARTUP: requests are LZ4-compressed from now on when {@code lz4}, and
   * on a v5 connection both directions use segments (compressed ones with {@code lz4}).
   */
  void started(int version, boolean lz4) {
    CqlFraming.afterStartup(ctx.pipeline(), version, lz4);
  }

  /** Before a STARTUP asking for LZ4: its answer and every later v4 frame may come compressed. */
  void expectCompressedResponses() {
    ctx.pipeline().get(CqlFrameDecoder.class).compression(true);
  }

  private void doSend(CqlFrame frame, ResponseSink sink) {
    if (closedCause != null || !ctx.channel().isActive()) {
      frame.release();
      sink.failed(closedCause != null ? closedCause : new ClosedChannelException());
      return;
    }
    int id = streams.inUse() < MAX_IN_FLIGHT || sink instanceof ProxyOwned ? streams.acquire(sink) : -1;
    if (id < 0) {
      frame.release();
      sink.failed(new StreamsExhaustedException());
      return;
    }
    ctx.write(frame.withStream(id), ctx.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      TickFlusher.later(ctx.executor(), flushTask);
    }
  }

  private void flushNow() {
    flushScheduled = false;
    ctx.flush();
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof CqlFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (frame.stream() < 0) {
      frame.release();
      return;
    }
    ResponseSink sink = streams.release(frame.stream());
    if (sink == null) {
      LOG.debug("dropping response on unused stream {} of {}", frame.stream(), context.channel());
      frame.release();
      return;
    }
    sink.response(frame);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    failAll(new ClosedChannelException());
    context.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    LOG.warn("backend connection {} failed: {}", context.channel(), cause.toString());
    failAll(cause);
    context.close();
  }

  private void failAll(Throwable cause) {
    if (closedCause == null) {
      closedCause = cause;
    }
    for (ResponseSink s : streams.clear()) {
      s.failed(cause);
    }
  }

  /** A sink of the proxy's own requests: may use the ids kept free for them. */
  interface ProxyOwned extends ResponseSink {
  }

  /** Every stream id of the connection is waiting for a response. */
  static final class StreamsExhaustedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StreamsExhaustedException() {
      super("all stream ids of the backend connection are in use", null, false, false);
    }
  }
}

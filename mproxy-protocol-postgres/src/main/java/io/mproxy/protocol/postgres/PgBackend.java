package io.mproxy.protocol.postgres;

import io.mproxy.core.wire.WriteCoalescer;
import io.mproxy.protocol.postgres.codec.PgFrameDecoder;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The proxy's end of one backend connection: routes each backend message to the current
 * {@link PgBackendSink} and remembers what the proxy knows of the server session — the parameters
 * it reported, its cancel key, which of the proxy's shared prepared statements exist on it, and
 * which client settings were applied to it. All state is touched on the channel's event loop only.
 */
final class PgBackend extends ChannelInboundHandlerAdapter {

  /** Messages that arrive while no client holds the connection. */
  private static final PgBackendSink IDLE = new PgBackendSink() {
    @Override
    public void message(ByteBuf frame) {
      frame.release();
    }

    @Override
    public void closed(Throwable cause) {
    }
  };

  private final Map<String, String> serverParams =
      java.util.Collections.synchronizedMap(new LinkedHashMap<>());
  /** Server-side statement names prepared on this connection, least recently used first. */
  private final LinkedHashMap<String, Boolean> prepared = new LinkedHashMap<>(16, 0.75f, true);
  /** Session settings clients applied with SET (name -> value), to diff against the next client. */
  private final Map<String, String> applied = new HashMap<>();
  private PgBackendSink sink = IDLE;
  private PgFrameDecoder decoder;
  private ChannelHandlerContext ctx;
  /**
   * A request's messages (a Bind rewrite and the client's Describe, Execute and Sync slices, or
   * several pipelined queries) leave in one buffer instead of one iovec each. Used only from this
   * channel's event loop; writes from another loop go straight to the channel.
   */
  private WriteCoalescer out;
  private int pid;
  private int secret;
  private boolean closed;
  /** The last value given to the decoder's {@link PgFrameDecoder#relayParseComplete}. */
  private boolean parseInRuns;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.out = new WriteCoalescer(ctx);
  }

  /**
   * Writes a message (taking ownership) to the server after everything written before it; does
   * not flush. On this connection's event loop small messages are gathered into one buffer; from
   * another loop each goes to the channel, which queues it to its loop in order. One holder's
   * session always writes from the same loop, and it flushes before the connection changes hands.
   */
  void write(ByteBuf msg) {
    if (ctx.executor().inEventLoop()) {
      out.write(msg);
    } else {
      ctx.channel().write(msg, ctx.channel().voidPromise());
    }
  }

  /** Hands what was written to the kernel. */
  void flush() {
    if (ctx.executor().inEventLoop()) {
      out.flush();
    } else {
      ctx.flush();
    }
  }

  ChannelHandlerContext context() {
    return ctx;
  }

  PgFrameDecoder decoder() {
    return ctx.pipeline().get(PgFrameDecoder.class);
  }

  /** Routes further messages to {@code next}; a closed connection tells it at once. */
  void sink(PgBackendSink next) {
    this.sink = next == null ? IDLE : next;
    relayRuns(this.sink.relaysRuns());
    if (closed && next != null) {
      next.closed(new ClosedChannelException());
    }
  }

  void idle() {
    this.sink = IDLE;
    relayRuns(false);
  }

  /**
   * Whether ParseComplete may join a relayed run ({@link PgFrameDecoder#relayParseComplete}); the
   * decoder's flag is written only when it changes.
   */
  void relayParseComplete(boolean on) {
    if (on != parseInRuns) {
      parseInRuns = on;
      PgFrameDecoder d = decoder;
      if (d == null) {
        d = decoder = ctx.pipeline().get(PgFrameDecoder.class);
      }
      if (d != null) {
        d.relayParseComplete(on);
      }
    }
  }

  private void relayRuns(boolean on) {
    PgFrameDecoder d = decoder;
    if (d == null && ctx != null) {
      d = decoder = ctx.pipeline().get(PgFrameDecoder.class);
    }
    if (d != null) {
      d.relayRuns(on);
    }
  }

  boolean isClosed() {
    return closed;
  }

  Map<String, String> serverParams() {
    return serverParams;
  }

  void keyData(int pid, int secret) {
    this.pid = pid;
    this.secret = secret;
  }

  int pid() {
    return pid;
  }

  int secret() {
    return secret;
  }

  boolean hasPrepared(String serverName) {
    return prepared.get(serverName) != null;
  }

  void markPrepared(String serverName) {
    prepared.put(serverName, Boolean.TRUE);
  }

  void forgetPrepared(String serverName) {
    prepared.remove(serverName);
  }

  void clearPrepared() {
    prepared.clear();
  }

  int preparedCount() {
    return prepared.size();
  }

  /** The least recently used prepared statement, to close when over the cap, or null. */
  String eldestPrepared() {
    Iterator<String> it = prepared.keySet().iterator();
    return it.hasNext() ? it.next() : null;
  }

  Map<String, String> applied() {
    return applied;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    sink.readComplete();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf frame) {
      if (frame.getByte(frame.readerIndex()) == PgMessages.PARAMETER_STATUS) {
        rememberParameter(frame);
      }
      PgFrameDecoder d = decoder;
      sink.message(frame, d != null && d.endsWithReady(frame));
    } else if (msg instanceof PgFrameDecoder.SslAnswer a) {
      sink.sslAnswer(a.value());
    } else if (msg instanceof io.mproxy.protocol.postgres.codec.PgDecodeError e) {
      ctx.close();
      fail(new IOException("backend sent a malformed message: " + e.message()));
    } else {
      io.netty.util.ReferenceCountUtil.release(msg);
    }
  }

  private void rememberParameter(ByteBuf frame) {
    ByteBuf body = frame.duplicate().skipBytes(5);
    try {
      String name = PgMessages.readCString(body);
      String value = PgMessages.readCString(body);
      serverParams.put(name, value);
    } catch (IllegalArgumentException malformed) {
      // Relayed as is; the client will judge it.
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    sink.writabilityChanged(ctx.channel().isWritable());
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    out.discard();
    fail(new ClosedChannelException());
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
    fail(cause);
  }

  private void fail(Throwable cause) {
    if (closed) {
      return;
    }
    closed = true;
    PgBackendSink s = sink;
    sink = IDLE;
    s.closed(cause);
  }
}

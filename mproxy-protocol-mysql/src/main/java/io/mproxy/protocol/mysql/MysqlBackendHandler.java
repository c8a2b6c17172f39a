package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.MysqlCodecException;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a backend connection: writes commands and hands each answering packet to the
 * oldest open {@link Exchange}. MySQL answers commands strictly in order, so a queue of
 * exchanges is the whole matching logic. Packets that answer nothing (a server that closes an
 * idle connection sends an ERR first) end the connection. Runs on the connection's event loop;
 * {@link #send} may be called from any thread.
 */
final class MysqlBackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(MysqlBackendHandler.class);
  private static final int MAX_EARLY_PACKETS = 4;

  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  /** Packets (MysqlPacket) and runs of packets (ByteBuf) read before the first exchange. */
  private final List<Object> early = new ArrayList<>();
  private ChannelHandlerContext ctx;
  private boolean inactive;
  private boolean started;

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
  }

  /** Writes {@code bytes} (owned) and expects the answer for {@code exchange} (null: no answer). */
  void send(ByteBuf bytes, Exchange exchange) {
    if (ctx.executor().inEventLoop()) {
      doSend(bytes, exchange);
    } else {
      ctx.executor().execute(() -> doSend(bytes, exchange));
    }
  }

  /** Expects the first packets of the connection (the greeting) for {@code exchange}. */
  void expect(Exchange exchange) {
    started = true;
    exchanges.add(exchange);
    List<Object> waiting = new ArrayList<>(early);
    early.clear();
    for (Object m : waiting) {
      if (m instanceof ByteBuf run) {
        deliverRun(run);
      } else {
        deliver((MysqlPacket) m);
      }
    }
  }

  private void doSend(ByteBuf bytes, Exchange exchange) {
    if (inactive) {
      bytes.release();
      if (exchange != null) {
        exchange.failed(new ClosedChannelException());
      }
      return;
    }
    if (exchange != null) {
      exchanges.add(exchange);
    }
    ctx.writeAndFlush(bytes, ctx.voidPromise());
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof MysqlPacket) && !(msg instanceof ByteBuf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (exchanges.isEmpty() && !started && early.size() < MAX_EARLY_PACKETS) {
      early.add(msg);
      return;
    }
    if (msg instanceof ByteBuf run) {
      deliverRun(run);
    } else {
      deliver((MysqlPacket) msg);
    }
  }

  /**
   * Whole packets of one read (owned): each goes in place to the oldest open exchange, and each
   * exchange's part of the read is closed with {@link Exchange#endRun} (a read can end one answer
   * and begin the next).
   */
  private void deliverRun(ByteBuf run) {
    try {
      int at = run.readerIndex();
      int end = run.writerIndex();
      Exchange ex = exchanges.peek();
      boolean fed = false;
      while (at < end) {
        if (ex == null) {
          LOG.debug("backend {}: {} bytes answering no command", ctx.channel().remoteAddress(), end - at);
          ctx.close();
          return;
        }
        int len = run.getUnsignedMediumLE(at);
        int seq = run.getUnsignedByte(at + 3);
        boolean last;
        try {
          last = ex.onPacketInPlace(run, at, len, seq);
        } catch (MysqlCodecException e) {
          exchanges.poll();
          LOG.debug("backend {}: {}", ctx.channel().remoteAddress(), e.getMessage());
          ex.failed(e);
          ctx.close();
          return;
        }
        at += 4 + len;
        fed = true;
        if (last) {
          ex.endRun(run, at);
          exchanges.poll();
          ex = exchanges.peek();
          fed = false;
        }
      }
      if (ex != null && fed) {
        ex.endRun(run, end);
      }
    } finally {
      run.release();
    }
  }

  private void deliver(MysqlPacket packet) {
    Exchange ex = exchanges.peek();
    if (ex == null) {
      LOG.debug("backend {}: packet answering no command: {}", ctx.channel().remoteAddress(), packet);
      packet.release();
      ctx.close();
      return;
    }
    boolean last;
    try {
      last = ex.onPacket(packet);
    } catch (MysqlCodecException e) {
      exchanges.poll();
      LOG.debug("backend {}: {}", ctx.channel().remoteAddress(), e.getMessage());
      ex.failed(e);
      ctx.close();
      return;
    }
    if (last) {
      exchanges.poll();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext context) {
    Exchange ex = exchanges.peek();
    if (ex != null) {
      ex.onReadComplete();
    }
    context.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    inactive = true;
    early.forEach(ReferenceCountUtil::release);
    early.clear();
    ClosedChannelException closed = new ClosedChannelException();
    Exchange ex;
    while ((ex = exchanges.poll()) != null) {
      ex.failed(closed);
    }
    context.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    LOG.debug("backend {}: {}", context.channel().remoteAddress(), cause.toString());
    Exchange ex;
    while ((ex = exchanges.poll()) != null) {
      ex.failed(cause);
    }
    context.close();
  }
}

package io.mproxy.protocol.mysql;

import io.mproxy.core.time.ReadBatch;
import io.mproxy.protocol.mysql.codec.MysqlCodecException;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.protocol.mysql.codec.PacketFramer;
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
 *
 * <p>It frames the socket's bytes itself, with no decoder stage in front: the whole packets of a
 * read go to their exchanges in place in the read buffer (no slice and no message per read, and
 * no pipeline hop), and only a packet cut by the end of a read is kept, in a cumulation buffer,
 * until the rest arrives. 16 MB continuation packets are joined into a {@link MysqlPacket}. A
 * packet longer than the limit, or continuation packets out of order, fail every open exchange
 * and close the connection.
 */
final class MysqlBackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(MysqlBackendHandler.class);
  /** Bytes a server may send before the first exchange is expected (its greeting is far smaller). */
  private static final int MAX_EARLY_BYTES = 64 * 1024;

  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private final long maxPacketBytes;
  /** The wire packets (headers included) of a 16 MB continuation run read so far. */
  private final List<ByteBuf> continued = new ArrayList<>();
  private long continuedBytes;
  /** Bytes read but not framed yet (a packet cut by the end of a read, or bytes before {@link #expect}). */
  private ByteBuf cumulation;
  private ChannelHandlerContext ctx;
  private boolean inactive;
  private boolean started;
  private boolean failed;

  MysqlBackendHandler(long maxPacketBytes) {
    if (maxPacketBytes <= 0) {
      throw new IllegalArgumentException("maxPacketBytes: " + maxPacketBytes + " (expected: > 0)");
    }
    this.maxPacketBytes = maxPacketBytes;
  }

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
    ByteBuf waiting = cumulation;
    if (waiting != null) {
      cumulation = null;
      frame(waiting);
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
    if (!(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (failed || inactive) {
      in.release();
      return;
    }
    ByteBuf buf = cumulate(in);
    if (exchanges.isEmpty() && !started) {
      // before the login exchange is expected: keep the bytes (bounded) for it
      cumulation = buf;
      if (buf.readableBytes() > MAX_EARLY_BYTES) {
        LOG.debug("backend {}: {} bytes before the login started", ctx.channel().remoteAddress(), buf.readableBytes());
        ctx.close();
      }
      return;
    }
    // the answers this read ends (and the commands they let start) take one clock reading
    ReadBatch.begin();
    try {
      frame(buf);
    } finally {
      ReadBatch.end();
    }
  }

  /** {@code in} after what is left of earlier reads; takes ownership of {@code in}. */
  private ByteBuf cumulate(ByteBuf in) {
    ByteBuf cum = cumulation;
    if (cum == null) {
      return in;
    }
    cumulation = null;
    try {
      if (cum.refCnt() == 1 && !cum.isReadOnly() && cum.maxWritableBytes() >= in.readableBytes()) {
        // not shared with a buffer handed on: grow it in place (amortised, as Netty's decoders do)
        cum.discardSomeReadBytes();
        cum.writeBytes(in, in.readerIndex(), in.readableBytes());
        return cum;
      }
      int need = cum.readableBytes() + in.readableBytes();
      ByteBuf merged = ctx.alloc().ioBuffer(Math.max(need, Math.min(2 * need, need + 65536)));
      merged.writeBytes(cum, cum.readerIndex(), cum.readableBytes());
      merged.writeBytes(in, in.readerIndex(), in.readableBytes());
      cum.release();
      return merged;
    } finally {
      in.release();
    }
  }

  /**
   * Frames the packets in {@code buf} (owned): runs of whole packets go in place to their
   * exchanges; a packet cut by the end of the buffer stays in {@link #cumulation}.
   */
  private void frame(ByteBuf buf) {
    try {
      while (!failed && buf.readableBytes() >= 4) {
        int from = buf.readerIndex();
        int whole = continued.isEmpty() ? wholePackets(buf) : from;
        if (whole > from) {
          if (!deliverRun(buf, from, whole)) {
            return;
          }
          if (whole == buf.writerIndex()) {
            // the buffer may have been handed on as it is: its indexes are not this handler's any more
            return;
          }
          buf.readerIndex(whole);
          continue;
        }
        if (!continuation(buf)) {
          break;
        }
      }
      if (!failed && buf.isReadable()) {
        cumulation = buf.retain();
      }
    } finally {
      buf.release();
    }
  }

  /**
   * How far from the reader index {@code buf} holds complete packets below 16 MB within the
   * limit (the first packet that is not stops the run: it takes {@link #continuation}).
   */
  private int wholePackets(ByteBuf buf) {
    int at = buf.readerIndex();
    int end = buf.writerIndex();
    while (end - at >= 4) {
      int len = buf.getUnsignedMediumLE(at);
      if (len == MysqlPacket.MAX_CHUNK || len > maxPacketBytes || end - at - 4 < len) {
        break;
      }
      at += 4 + len;
    }
    return at;
  }

  /**
   * The packet at the reader index when it is not part of a run: a 16 MB piece of a continued
   * packet, the end of one, too long, or not complete yet. Returns false when it has to wait for
   * more bytes (or failed).
   */
  private boolean continuation(ByteBuf buf) {
    int len = buf.getUnsignedMediumLE(buf.readerIndex());
    MysqlCodecException bad = PacketFramer.checkHeader(buf, continued, continuedBytes, maxPacketBytes);
    if (bad != null) {
      fail(bad);
      return false;
    }
    if (buf.readableBytes() < 4 + len) {
      return false;
    }
    ByteBuf piece = buf.readRetainedSlice(4 + len);
    continued.add(piece);
    if (len == MysqlPacket.MAX_CHUNK) {
      continuedBytes += len;
      return true;
    }
    List<ByteBuf> pieces = new ArrayList<>(continued);
    continued.clear();
    continuedBytes = 0;
    return deliver(MysqlPacket.joined(ctx.alloc(), pieces));
  }

  /**
   * Whole packets from {@code from} to {@code to} in {@code buf} (not owned): each goes in place
   * to the oldest open exchange, and each exchange's part of the read is closed with
   * {@link Exchange#endRun} (a read can end one answer and begin the next). Returns false when
   * the connection was closed.
   */
  private boolean deliverRun(ByteBuf buf, int from, int to) {
    int at = from;
    Exchange ex = exchanges.peek();
    boolean fed = false;
    while (at < to) {
      if (ex == null) {
        LOG.debug("backend {}: {} bytes answering no command", ctx.channel().remoteAddress(), to - at);
        failed = true;
        ctx.close();
        return false;
      }
      int len = buf.getUnsignedMediumLE(at);
      int seq = buf.getUnsignedByte(at + 3);
      boolean last;
      try {
        last = ex.onPacketInPlace(buf, at, len, seq);
      } catch (MysqlCodecException e) {
        failHead(ex, e);
        return false;
      }
      at += 4 + len;
      fed = true;
      if (last) {
        ex.endRun(buf, at);
        exchanges.poll();
        ex = exchanges.peek();
        fed = false;
      }
    }
    if (ex != null && fed) {
      ex.endRun(buf, to);
    }
    return true;
  }

  /** One joined packet (owned) to the oldest open exchange; false when the connection was closed. */
  private boolean deliver(MysqlPacket packet) {
    Exchange ex = exchanges.peek();
    if (ex == null) {
      LOG.debug("backend {}: packet answering no command: {}", ctx.channel().remoteAddress(), packet);
      packet.release();
      failed = true;
      ctx.close();
      return false;
    }
    boolean last;
    try {
      last = ex.onPacket(packet);
    } catch (MysqlCodecException e) {
      failHead(ex, e);
      return false;
    }
    if (last) {
      exchanges.poll();
    }
    return true;
  }

  /** Malformed framing: every open exchange fails, the connection closes, later bytes are dropped. */
  /** The oldest exchange got an answer it cannot parse: it fails, and so does the connection. */
  private void failHead(Exchange ex, MysqlCodecException e) {
    exchanges.poll();
    LOG.debug("backend {}: {}", ctx.channel().remoteAddress(), e.getMessage());
    ex.failed(e);
    failed = true;
    ctx.close();
  }

  private void fail(MysqlCodecException e) {
    failed = true;
    releaseBuffered();
    LOG.debug("backend {}: {}", ctx.channel().remoteAddress(), e.getMessage());
    Exchange ex;
    while ((ex = exchanges.poll()) != null) {
      ex.failed(e);
    }
    ctx.close();
  }

  private void releaseBuffered() {
    continued.forEach(ByteBuf::release);
    continued.clear();
    continuedBytes = 0;
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
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
    releaseBuffered();
    ClosedChannelException closed = new ClosedChannelException();
    Exchange ex;
    while ((ex = exchanges.poll()) != null) {
      ex.failed(closed);
    }
    context.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext context) {
    releaseBuffered();
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

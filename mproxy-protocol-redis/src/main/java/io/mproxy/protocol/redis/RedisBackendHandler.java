package io.mproxy.protocol.redis;

import io.mproxy.core.wire.TickFlusher;
import io.mproxy.core.wire.WriteCoalescer;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend connection's reply matcher: commands are written in order and their replies come
 * back in the same order, so a FIFO of {@link ReplySink}s pairs each reply with its command.
 * Frames that answer no command (pub/sub messages, RESP3 pushes, MONITOR output) go to the
 * {@link PushSink} of the session that holds the connection, if any.
 *
 * <p>The decoder in front of it ({@link RespFrameDecoder#replyBoundaries}) reports where each
 * reply lies in the read buffer; an ordinary reply goes to its sink as that position, without a
 * frame or a retained slice. Only where a reply may be a push (RESP3 {@code >}, an array while
 * the connection is in pub/sub mode, anything in MONITOR mode) is it wrapped as a frame to be
 * looked at.
 *
 * <p>All state is confined to the connection's event loop; {@link #send} hops there when called
 * from elsewhere, so the order of sends is the order of the FIFO.
 */
final class RedisBackendHandler extends ChannelInboundHandlerAdapter
    implements RespFrameDecoder.Boundaries {

  private static final Logger LOG = LoggerFactory.getLogger(RedisBackendHandler.class);

  private final ArrayDeque<ReplySink> pending = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private int receivedForHead;
  private boolean pubsub;
  private boolean monitor;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushNow;
  /** Commands of one tick (often several clients') leave in one buffer. */
  private WriteCoalescer out;
  private PushSink pushSink;
  private Throwable closedCause;

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
    this.out = new WriteCoalescer(context);
  }

  /**
   * Writes {@code command} (taking ownership) and registers where its replies go. Safe from any
   * thread. A command that expects no reply completes its sink at once.
   */
  void send(ByteBuf command, ReplySink sink) {
    if (ctx.executor().inEventLoop()) {
      doSend(command, sink);
    } else {
      ctx.executor().execute(() -> doSend(command, sink));
    }
  }

  /**
   * Writes a copy of {@code length} bytes of {@code src} from {@code index} (a command still in
   * the client's read buffer, not released here) and registers where its replies go. On this
   * connection's loop the bytes are copied straight into the outgoing buffer; from another loop
   * they are kept as a retained slice and sent there.
   */
  void sendCopy(ByteBuf src, int index, int length, ReplySink sink) {
    if (!ctx.executor().inEventLoop()) {
      send(src.retainedSlice(index, length), sink);
      return;
    }
    if (closedCause != null || !ctx.channel().isActive()) {
      sink.failed(closedCause != null ? closedCause : new ClosedChannelException());
      return;
    }
    out.copy(src, index, length);
    registered(sink);
  }

  /** Routes unsolicited frames to {@code sink} (null: drop them). Safe from any thread. */
  void pushSink(PushSink sink) {
    if (ctx.executor().inEventLoop()) {
      this.pushSink = sink;
    } else {
      ctx.executor().execute(() -> this.pushSink = sink);
    }
  }

  private void doSend(ByteBuf command, ReplySink sink) {
    if (closedCause != null || !ctx.channel().isActive()) {
      ReferenceCountUtil.release(command);
      sink.failed(closedCause != null ? closedCause : new ClosedChannelException());
      return;
    }
    out.write(command);
    registered(sink);
  }

  /** The command of {@code sink} is in the outgoing buffer: match its replies, flush at the tick's end. */
  private void registered(ReplySink sink) {
    if (sink.expectedReplies() > 0) {
      if (pending.isEmpty() && sink.pubsubDuring()) {
        pubsub = true;
      }
      pending.add(sink);
    } else {
      sink.reply(null, 0, 0, (byte) 0, true);
    }
    if (!flushScheduled) {
      flushScheduled = true;
      TickFlusher.later(ctx.executor(), flushTask);
    }
  }

  private void flushNow() {
    flushScheduled = false;
    out.flush();
  }

  @Override
  public void reply(ByteBuf in, int index, int length, byte type, boolean attributed) {
    if (monitor || type == '>' || pubsub && type == '*') {
      onFrame(RespFrame.reply(type, in.retainedSlice(index, length), attributed));
      return;
    }
    ReplySink head = pending.peek();
    if (head == null) {
      LOG.debug("dropping unexpected reply on {}: '{}', {} bytes", ctx.channel(), (char) type, length);
      return;
    }
    head.reply(in, index, length, type, advance(head));
  }

  /** Frames from a frame-emitting decoder (tests) take the path of a possible push. */
  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof RespFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    onFrame(frame);
  }

  /** A reply that may be a push; takes ownership of {@code frame}. */
  private void onFrame(RespFrame frame) {
    if (monitor || isUnsolicited(frame)) {
      deliverPush(frame);
      return;
    }
    ReplySink head = pending.peek();
    if (head == null) {
      LOG.debug("dropping unexpected reply on {}: {}", ctx.channel(), frame);
      frame.release();
      return;
    }
    try {
      ByteBuf content = frame.content();
      head.reply(content, content.readerIndex(), content.readableBytes(), frame.type(), advance(head));
    } finally {
      frame.release();
    }
  }

  /** Counts one reply for {@code head}; when it was the last, moves on to the next command. */
  private boolean advance(ReplySink head) {
    receivedForHead++;
    if (receivedForHead < head.expectedReplies()) {
      return false;
    }
    pending.poll();
    receivedForHead = 0;
    pubsub = head.pubsubAfter();
    monitor = head.monitorAfter();
    ReplySink next = pending.peek();
    if (next != null && next.pubsubDuring()) {
      pubsub = true;
    }
    return true;
  }

  private boolean isUnsolicited(RespFrame frame) {
    if (frame.isPush()) {
      return !PubSubFrames.isConfirmation(frame);
    }
    return pubsub && frame.type() == '*' && PubSubFrames.isMessage(frame);
  }

  private void deliverPush(RespFrame frame) {
    PushSink sink = pushSink;
    if (sink == null) {
      frame.release();
      return;
    }
    sink.push(frame);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    out.discard();
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
    ReplySink s;
    while ((s = pending.poll()) != null) {
      s.failed(cause);
    }
  }
}

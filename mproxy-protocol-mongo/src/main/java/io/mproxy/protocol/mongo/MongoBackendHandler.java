package io.mproxy.protocol.mongo;

import io.mproxy.core.time.ReadBatch;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.OpCode;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend connection's reply matcher. A server answers the messages of one connection in
 * the order they came, so a FIFO of {@link ReplySink}s pairs replies with requests; each reply's
 * {@code responseTo} is checked against the request it is paired with. An OP_MSG reply with
 * moreToCome (an exhaust stream) keeps its request at the head until the reply without it.
 *
 * <p>State is confined to the connection's event loop; {@link #send} hops there when needed.
 */
final class MongoBackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(MongoBackendHandler.class);

  /** The sinks of the requests in flight, oldest first; their request ids in {@link #ids}, same order. */
  private final ArrayDeque<ReplySink> pending = new ArrayDeque<>();
  /** A ring of the request ids of {@link #pending} (no object per request): {@link #idCount} from {@link #idHead}. */
  private int[] ids = new int[4];
  private int idHead;
  private int idCount;
  private ChannelHandlerContext ctx;
  private Throwable closedCause;

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
  }

  /**
   * Writes {@code message} (a whole message; ownership taken) and routes its replies to
   * {@code sink}. A message that expects no reply ({@code expectReply} false, moreToCome)
   * completes its sink once written. Safe from any thread.
   */
  void send(ByteBuf message, boolean expectReply, ReplySink sink) {
    if (ctx.executor().inEventLoop()) {
      doSend(message, expectReply, sink);
    } else {
      ctx.executor().execute(() -> doSend(message, expectReply, sink));
    }
  }

  private void doSend(ByteBuf message, boolean expectReply, ReplySink sink) {
    if (closedCause != null || !ctx.channel().isActive()) {
      ReferenceCountUtil.release(message);
      sink.failed(closedCause != null ? closedCause : new ClosedChannelException());
      return;
    }
    int requestId = message.getIntLE(message.readerIndex() + 4);
    if (expectReply) {
      pending.add(sink);
      pushId(requestId);
      ctx.writeAndFlush(message, ctx.voidPromise());
      return;
    }
    ctx.writeAndFlush(message).addListener(f -> {
      if (f.isSuccess()) {
        sink.reply(null, true);
      } else {
        sink.failed(f.cause());
      }
    });
  }

  /**
   * One read's replies take one clock reading (see {@link ReadBatch}): the lease's release and the
   * request's completion when the client lives on this loop.
   */
  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    ReadBatch.begin();
    try {
      read(context, msg);
    } finally {
      ReadBatch.end();
    }
  }

  private void read(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof MongoFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ReplySink head = pending.peek();
    if (head == null || frame.responseTo() != ids[idHead]) {
      LOG.warn("backend connection {}: reply {} answers no request in flight (expected responseTo={}); closing",
          context.channel(), frame, head == null ? "none" : ids[idHead]);
      frame.release();
      context.close();
      return;
    }
    boolean more = frame.opCode() == OpCode.OP_MSG && frame.size() >= MongoFrame.HEADER_BYTES + 4
        && (OpMsg.flagsOf(frame.content()) & OpMsg.MORE_TO_COME) != 0;
    if (!more) {
      pending.poll();
      popId();
    }
    head.reply(frame, !more);
  }

  private void pushId(int id) {
    if (idCount == ids.length) {
      int[] grown = new int[ids.length * 2];
      for (int i = 0; i < idCount; i++) {
        grown[i] = ids[(idHead + i) % ids.length];
      }
      ids = grown;
      idHead = 0;
    }
    ids[(idHead + idCount) % ids.length] = id;
    idCount++;
  }

  private void popId() {
    idHead = (idHead + 1) % ids.length;
    idCount--;
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
    idCount = 0;
    ReplySink p;
    while ((p = pending.poll()) != null) {
      p.failed(cause);
    }
  }
}

package io.mproxy.protocol.mongo;

import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpCode;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;

/**
 * A refused connection (too many clients, too many new connections, shutting down): MongoDB's
 * server never speaks first, so the refusal answers the client's first message (the driver's
 * {@code hello}, over OP_QUERY or OP_MSG) with an overload error the driver reports and may
 * retry elsewhere ({@code IngressRequestRateLimitExceeded}, labelled {@code SystemOverloadedError}
 * and {@code RetryableError}, as MongoDB 8.2's own ingress limiter answers), then closes.
 * Anything it cannot answer is closed without a reply.
 */
final class MongoConnectionRefusal extends ChannelInboundHandlerAdapter {

  static final int INGRESS_RATE_LIMIT_EXCEEDED = 462;

  private final String message;
  private boolean answered;

  MongoConnectionRefusal(String message) {
    this.message = message;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (answered || !(msg instanceof MongoFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    answered = true;
    int requestId = frame.requestId();
    int opCode = frame.opCode();
    frame.release();
    BsonDocument error = MongoReplies.error(INGRESS_RATE_LIMIT_EXCEEDED, "IngressRequestRateLimitExceeded", message)
        .append("errorLabels", new BsonArray(java.util.List.of(
            new BsonString("SystemOverloadedError"), new BsonString("RetryableError"))));
    ctx.channel().config().setAutoRead(false);
    if (opCode == OpCode.OP_QUERY) {
      error.append("$err", new BsonString(message));
      ctx.writeAndFlush(MongoReplies.opReply(ctx.alloc(), requestId, MongoReplies.QUERY_FAILURE, error))
          .addListener(ChannelFutureListener.CLOSE);
    } else if (opCode == OpCode.OP_MSG) {
      ctx.writeAndFlush(MongoReplies.reply(ctx.alloc(), requestId, error)).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}

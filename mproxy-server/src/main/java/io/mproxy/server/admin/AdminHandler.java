package io.mproxy.server.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection. Requests are answered strictly in arrival order (HTTP/1.1 pipelining):
 * while one answer is computed off the event loop, later requests wait in a small per-connection
 * queue; reading pauses when it holds {@value #MAX_PIPELINED} and a client that still sends more
 * than {@value #MAX_QUEUED} is disconnected. Keep-alive is honoured; a request that could
 * not be decoded gets 400 and the connection is closed.
 *
 * <p>With an admin token configured, every request except {@code GET /healthz} (which probes
 * need, and which tells nothing) must carry {@code Authorization: Bearer <token>}; others get 401
 * without being routed. The comparison takes the same time wherever the first difference is.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);
  /** Queued requests at which reading pauses. */
  private static final int MAX_PIPELINED = 16;
  /** Queued requests at which the connection is dropped (one read can hold many small requests). */
  private static final int MAX_QUEUED = 1024;
  private static final String HEALTHZ = "/healthz";

  private final AdminRouter router;
  /** The expected Authorization header value, or null when no token is configured. */
  private final byte[] expectedAuthorization;
  private final ArrayDeque<Call> pending = new ArrayDeque<>();
  private boolean busy;
  private boolean closing;

  AdminHandler(AdminRouter router) {
    this(router, null);
  }

  /** @param token the bearer token every endpoint but {@code /healthz} requires, or null */
  AdminHandler(AdminRouter router, String token) {
    this.router = router;
    this.expectedAuthorization = token == null ? null
        : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  /** What is kept of a request once its buffers are released. */
  private record Call(HttpMethod method, String uri, HttpVersion version, boolean keepAlive, boolean malformed,
      boolean unauthorized) {
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (closing) {
      return;
    }
    boolean malformed = !request.decoderResult().isSuccess();
    HttpVersion version = malformed ? HttpVersion.HTTP_1_1 : request.protocolVersion();
    pending.add(new Call(request.method(), request.uri(), version, !malformed && HttpUtil.isKeepAlive(request),
        malformed, !malformed && !authorized(request)));
    if (pending.size() > MAX_QUEUED) {
      closing = true;
      pending.clear();
      ctx.close();
      return;
    }
    if (pending.size() >= MAX_PIPELINED) {
      ctx.channel().config().setAutoRead(false);
    }
    drain(ctx);
  }

  private void drain(ChannelHandlerContext ctx) {
    while (!busy && !closing) {
      Call call = pending.poll();
      if (call == null) {
        ctx.channel().config().setAutoRead(true);
        return;
      }
      CompletableFuture<Reply> answer = call.malformed()
          ? CompletableFuture.completedFuture(router.error(HttpResponseStatus.BAD_REQUEST, "malformed request"))
          : call.unauthorized()
              ? CompletableFuture.completedFuture(router.error(HttpResponseStatus.UNAUTHORIZED,
                  "missing or wrong bearer token (send 'Authorization: Bearer <admin.token>')"))
              : route(call);
      if (answer.isDone()) {
        respond(ctx, call, answer);
        continue;
      }
      busy = true;
      answer.whenComplete((r, e) -> {
        try {
          ctx.executor().execute(() -> {
            busy = false;
            respond(ctx, call, answer);
            drain(ctx);
          });
        } catch (RejectedExecutionException shutDown) {
          // The event loop is gone and the channel with it: nothing left to answer.
        }
      });
    }
  }

  private boolean authorized(FullHttpRequest request) {
    if (expectedAuthorization == null) {
      return true;
    }
    if (HEALTHZ.equals(new QueryStringDecoder(request.uri()).path())
        && (HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method()))) {
      return true;
    }
    String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    return given != null
        && MessageDigest.isEqual(expectedAuthorization, given.trim().getBytes(StandardCharsets.UTF_8));
  }

  private CompletableFuture<Reply> route(Call call) {
    try {
      return router.route(call.method(), call.uri());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void respond(ChannelHandlerContext ctx, Call call, CompletableFuture<Reply> answer) {
    if (!ctx.channel().isActive()) {
      closing = true;
      pending.clear();
      return;
    }
    Reply reply;
    try {
      reply = answer.join();
    } catch (RuntimeException e) {
      LOG.warn("admin {} {} failed", call.method(), call.uri(), e.getCause() != null ? e.getCause() : e);
      reply = router.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
    }
    boolean head = HttpMethod.HEAD.equals(call.method());
    ByteBuf body = head || reply.body().length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(reply.body());
    FullHttpResponse response = new DefaultFullHttpResponse(call.version(), reply.status(), body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length)
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    if (call.unauthorized()) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"mproxy-admin\"");
    }
    if (reply.allow() != null) {
      response.headers().set(HttpHeaderNames.ALLOW, reply.allow());
    }
    HttpUtil.setKeepAlive(response, call.keepAlive());
    ChannelFuture written = ctx.writeAndFlush(response);
    if (!call.keepAlive()) {
      closing = true;
      pending.clear();
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (!busy) {
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("admin connection {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}

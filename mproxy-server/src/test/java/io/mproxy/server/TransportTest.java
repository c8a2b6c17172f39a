package io.mproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.local.LocalIoHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The one place the transport is chosen: every transport runs here (this machine has epoll and
 * io_uring; a test failure names Netty's cause), its channel types work on its own event loops
 * over real loopback sockets, {@code auto} falls back only to NIO, and a named transport that
 * cannot run is refused with its cause.
 */
class TransportTest {

  @Test
  void everyTransportIsAvailableOnThisMachine() {
    for (Transport t : Transport.values()) {
      Optional<Throwable> cause = t.unavailabilityCause();
      assertTrue(cause.isEmpty(), () -> t + " unavailable: " + cause.get());
    }
  }

  @Test
  void eachTransportEchoesOverLoopbackWithItsOwnChannelTypes() throws Exception {
    for (Transport t : Transport.values()) {
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
      try {
        assertSame(t, Transport.of(group));
        assertEquals("hello over " + t, echo(t, group, "hello over " + t));
      } finally {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      }
    }
  }

  /** Binds an echo server and connects a client, both with {@code t}'s channels on {@code group}. */
  private static String echo(Transport t, EventLoopGroup group, String text) throws Exception {
    Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    try {
      CompletableFuture<String> answer = new CompletableFuture<>();
      StringBuilder got = new StringBuilder();
      int expected = text.getBytes(StandardCharsets.UTF_8).length;
      Channel client = new Bootstrap().group(group).channel(t.socketChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.SO_KEEPALIVE, true)
          .handler(new SimpleChannelInboundHandler<ByteBuf>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
              got.append(msg.toString(StandardCharsets.UTF_8));
              if (got.length() >= expected) {
                answer.complete(got.toString());
              }
            }
          })
          .connect(server.localAddress()).sync().channel();
      try {
        client.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)).sync();
        return answer.get(10, TimeUnit.SECONDS);
      } finally {
        client.close().syncUninterruptibly();
      }
    } finally {
      server.close().syncUninterruptibly();
    }
  }

  @Test
  void autoIsEpollWhenItLoadsAndNioOtherwise() {
    assertSame(Transport.EPOLL, Transport.select("auto", t -> Optional.empty()));
    assertSame(Transport.NIO, Transport.select("auto",
        t -> t == Transport.NIO ? Optional.empty() : Optional.of(new UnsatisfiedLinkError("gone"))));
    assertSame(Transport.EPOLL, Transport.select("auto"), "this machine has epoll");
  }

  @Test
  void namedTransportsAreSelectedCaseInsensitively() {
    assertSame(Transport.IO_URING, Transport.select("io_uring"));
    assertSame(Transport.IO_URING, Transport.select("IO_URING"));
    assertSame(Transport.EPOLL, Transport.select("epoll"));
    assertSame(Transport.NIO, Transport.select("nio"));
  }

  @Test
  void anUnavailableTransportIsRefusedWithItsCauseNeverReplaced() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.select("io_uring",
        t -> t == Transport.IO_URING
            ? Optional.of(new IllegalStateException("ring setup failed", new UnsatisfiedLinkError("libnetty")))
            : Optional.empty()));
    assertTrue(e.getMessage().contains("transport io_uring is not available"), e.getMessage());
    assertTrue(e.getMessage().contains("ring setup failed"), e.getMessage());
    assertTrue(e.getMessage().contains("libnetty"), e.getMessage());
  }

  @Test
  void anUnknownTransportIsRefusedWithTheAcceptedValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.select("kqueue"));
    assertTrue(e.getMessage().contains("auto, epoll, io_uring, nio"), e.getMessage());
  }

  @Test
  void aGroupOfAnotherTransportIsNotMistakenForOne() {
    EventLoopGroup local = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    try {
      assertThrows(IllegalArgumentException.class, () -> Transport.of(local));
    } finally {
      local.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}

package io.mproxy.protocol.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.testing.LoopbackListener;
import io.mproxy.testkit.RedisServer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a pipelining client costs in writes, on real sockets in front of a real redis-server: the
 * sixteen replies to one client read reach the client in one write and one flush (each flush a
 * system call on the daemon's transports), counted by an outbound handler at the head of the
 * proxy's client pipeline. (The backend side, the commands of one tick in one write, is
 * {@link RedisBackendHandlerTest}'s.) One event loop, as the daemon's pool arranges for most shared commands
 * (packed on the requester's loop); the server answers a pipeline it read at once with one write,
 * but a reply read may still split in two on a busy machine, hence at most two flushes back.
 */
class WriteBatchingTest {

  private static final int DEPTH = 16;
  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void sixteenPipelinedCommandsLeaveInOneWriteAndTheirRepliesComeBackInOne() throws Exception {
    int loops = 1;
    Counter toClients = new Counter();
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), loops, 1,
        new Watched(new RedisProtocolAdapter(), toClients));
        RespSocket client = new RespSocket("127.0.0.1", proxy.port())) {
      long expectedBytes = 0;
      // the first round opens the backend connection; the second is the one counted
      for (int round = 0; round < 2; round++) {
        toClients.reset();
        List<String[]> cmds = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < DEPTH; i++) {
          String key = "wb:" + loops + ":" + round + ":" + i;
          if (i % 2 == 0) {
            cmds.add(new String[] {"SET", key, "value-" + i});
            expected.add("+OK\r\n");
          } else {
            cmds.add(new String[] {"GET", "wb:" + loops + ":" + round + ":" + (i - 1)});
            expected.add("$" + ("value-" + (i - 1)).length() + "\r\nvalue-" + (i - 1) + "\r\n");
          }
        }
        expectedBytes = expected.stream().mapToLong(String::length).sum();
        client.send(cmds.toArray(String[][]::new));
        for (int i = 0; i < DEPTH; i++) {
          assertEquals(expected.get(i), client.read(), "reply " + i);
        }
      }
      String back = toClients.toString();
      assertTrue(toClients.flushes.get() >= 1 && toClients.flushes.get() <= 2, "to the client: " + back);
      assertTrue(toClients.writes.get() <= toClients.flushes.get(), "one write per flush: " + back);
      assertEquals(expectedBytes, toClients.bytes.get(), "every reply went in those writes: " + back);
    }
  }

  /** Counts the writes, flushes and bytes that pass it towards the socket. */
  @ChannelHandler.Sharable
  private static final class Counter extends ChannelOutboundHandlerAdapter {
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicLong bytes = new AtomicLong();

    void reset() {
      writes.set(0);
      flushes.set(0);
      bytes.set(0);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf buf && buf.isReadable()) {
        writes.incrementAndGet();
        bytes.addAndGet(buf.readableBytes());
      }
      ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes.incrementAndGet();
      ctx.flush();
    }

    @Override
    public String toString() {
      return writes + " writes, " + flushes + " flushes, " + bytes + " bytes";
    }
  }

  /** The Redis adapter with a {@link Counter} at the head of each client pipeline. */
  private static final class Watched implements ProtocolAdapter {
    private final ProtocolAdapter redisAdapter;
    private final Counter toClients;

    Watched(ProtocolAdapter redisAdapter, Counter toClients) {
      this.redisAdapter = redisAdapter;
      this.toClients = toClients;
    }

    @Override
    public String protocol() {
      return redisAdapter.protocol();
    }

    @Override
    public void initClientChannel(Channel channel, ListenerContext listener) {
      redisAdapter.initClientChannel(channel, listener);
      channel.pipeline().addFirst("count-client-writes", toClients);
    }

    @Override
    public BackendConnector backendConnector(ClusterConfig cluster) {
      return redisAdapter.backendConnector(cluster);
    }
  }
}

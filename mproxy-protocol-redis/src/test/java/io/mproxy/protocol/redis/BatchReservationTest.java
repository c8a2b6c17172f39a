package io.mproxy.protocol.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.testing.LoopbackListener;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client's pipelined commands on a shared backend connection are reserved on the pool's count
 * once per read and handed back once per backend read (or when the last one is done), yet the
 * pool still counts requests: the least-loaded pick and the packing depth read that count, and an
 * exclusive lease (MULTI, a blocking command…) must get the connection only once the last request
 * of a batch is answered. Real redis-server behind the proxy; in the first test behind a relay
 * that holds the server's replies back, so what is in flight at each step is known.
 */
class BatchReservationTest {

  private static final Duration WITHIN = Duration.ofSeconds(20);
  private static final String OK = "+OK\r\n";
  private static RedisServer redis;
  private static DefaultEventLoopGroup requesters;

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
    requesters = new DefaultEventLoopGroup(1);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (redis != null) {
      redis.close();
    }
    if (requesters != null) {
      requesters.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void aBatchCountsEveryRequestAndAnExclusiveWaiterGetsTheConnectionAfterItsLastReply(int loops)
      throws Exception {
    try (GatedRelay relay = new GatedRelay(redis.host(), redis.port());
        LoopbackListener proxy = MiniProxy.start("127.0.0.1", relay.port(), loops, 1);
        RespSocket client = new RespSocket("127.0.0.1", proxy.port())) {
      BackendPool pool = onlyPool(proxy);
      EventLoop requester = requesters.next();
      // the client opens the pool's only connection; the test takes it shared and hands it back
      // at once, to read its count
      client.send(new String[] {"PING"});
      assertEquals("+PONG\r\n", client.read());
      Grant probe = new Grant();
      pool.acquire(false, requester, probe);
      PooledConnection conn = probe.get();
      conn.done();
      assertEquals(0, conn.outstanding());

      relay.hold();
      int n = 16;
      String[][] sets = new String[n][];
      for (int i = 0; i < n; i++) {
        sets[i] = new String[] {"SET", "br:gate:" + loops + ":" + i, "v" + i};
      }
      client.send(sets);
      Eventually.assertWithin(WITHIN, () -> assertEquals(n, conn.outstanding(),
          "every command of the read is counted on the connection once the read is settled"));

      Grant exclusive = new Grant();
      pool.acquire(true, requester, exclusive);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, pool.stats().waiting()));

      relay.allow(10L * OK.length());
      for (int i = 0; i < 10; i++) {
        assertEquals(OK, client.read(), "reply " + i);
      }
      Eventually.assertWithin(WITHIN, () -> assertEquals(n - 10, conn.outstanding(),
          "the replies of a backend read are handed back when the read is settled"));
      // six replies are still held by the relay: the connection cannot be idle, so no grant
      assertFalse(exclusive.future.isDone(), "an exclusive lease while six requests are in flight");
      assertEquals(1, pool.stats().active());

      relay.openGate();
      for (int i = 10; i < n; i++) {
        assertEquals(OK, client.read(), "reply " + i);
      }
      PooledConnection leased = exclusive.get();
      assertSame(conn, leased, "the waiter gets the connection once the batch is done");
      assertEquals(0, conn.outstanding());
      assertTrue(conn.exclusive());
      pool.release(leased, true);

      // the pool's count starts from zero again: one more shared request counts exactly one
      Grant again = new Grant();
      pool.acquire(false, requester, again);
      assertSame(conn, again.get());
      assertEquals(1, conn.outstanding());
      conn.done();
      client.send(new String[] {"GET", "br:gate:" + loops + ":3"});
      assertEquals("$2\r\nv3\r\n", client.read());
      Eventually.assertWithin(WITHIN,
          () -> assertEquals(new BackendPool.PoolStats(1, 0, 0, 0), pool.stats()));
      assertEquals(0, conn.outstanding());
    }
  }

  /**
   * Four kinds of client at once over a pool of two connections: plain pipelines, pipelines with a
   * MULTI/EXEC in the middle (pinned, waiting for the client's shared commands to finish first),
   * pipelines with a blocking command, and clients that close their socket with most of a batch
   * unanswered. Every request of the clients that stay gets its own reply in order, and when
   * everything is quiet every connection counts exactly zero requests.
   */
  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void pipelinesWithTransactionsBlockingCommandsAndDisconnectsLeaveNothingCounted(int loops)
      throws Exception {
    String p = "br:mix:" + loops + ":";
    redis.cli("DEL", p + "ctr", p + "list");
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), loops, 2)) {
      ExecutorService threads = Executors.newFixedThreadPool(4);
      try {
        CountDownLatch go = new CountDownLatch(1);
        int rounds = 25;
        List<Future<?>> clients = new ArrayList<>();
        clients.add(threads.submit(() -> transactions(proxy.port(), p + "t:", p + "ctr", rounds, go)));
        clients.add(threads.submit(() -> blocking(proxy.port(), p + "b:", p + "list", rounds, go)));
        clients.add(threads.submit(() -> plain(proxy.port(), p + "p:", rounds, go)));
        clients.add(threads.submit(() -> disconnecting(proxy.port(), p + "d:", 10, go)));
        go.countDown();
        for (Future<?> c : clients) {
          c.get(120, TimeUnit.SECONDS);
        }
      } finally {
        threads.shutdownNow();
      }
      BackendPool pool = onlyPool(proxy);
      Eventually.assertWithin(WITHIN, () -> {
        BackendPool.PoolStats stats = pool.stats();
        assertEquals(0, stats.active(), "no connection in use once every reply is in: " + stats);
        assertEquals(0, stats.waiting());
        assertTrue(stats.idle() >= 1, stats.toString());
      });
      // exactly zero, not below: an exclusive lease takes only a connection that counts zero
      int idle = pool.stats().idle();
      List<PooledConnection> all = new ArrayList<>();
      for (int i = 0; i < idle; i++) {
        Grant g = new Grant();
        pool.acquire(true, requesters.next(), g);
        all.add(g.get());
      }
      for (PooledConnection c : all) {
        assertEquals(0, c.outstanding(), c.toString());
        pool.release(c, true);
      }
    }
  }

  /** Plain commands, then MULTI INCR GET EXEC, then plain again, in one write per round. */
  private static Void transactions(int port, String prefix, String counter, int rounds,
      CountDownLatch go) throws Exception {
    try (RespSocket s = new RespSocket("127.0.0.1", port)) {
      go.await(10, TimeUnit.SECONDS);
      for (int r = 0; r < rounds; r++) {
        List<String[]> cmds = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          String value = "t" + r + "-" + i;
          cmds.add(new String[] {"SET", prefix + i, value});
          expected.add(OK);
          cmds.add(new String[] {"GET", prefix + i});
          expected.add(bulk(value));
        }
        cmds.add(new String[] {"MULTI"});
        expected.add(OK);
        cmds.add(new String[] {"INCR", counter});
        expected.add("+QUEUED\r\n");
        cmds.add(new String[] {"GET", prefix + 0});
        expected.add("+QUEUED\r\n");
        cmds.add(new String[] {"EXEC"});
        expected.add("*2\r\n:" + (r + 1) + "\r\n" + bulk("t" + r + "-0"));
        for (int i = 0; i < 5; i++) {
          cmds.add(new String[] {"GET", prefix + i});
          expected.add(bulk("t" + r + "-" + i));
        }
        s.send(cmds.toArray(String[][]::new));
        for (int i = 0; i < expected.size(); i++) {
          assertEquals(expected.get(i), s.read(), "round " + r + ", reply " + i);
        }
      }
    }
    return null;
  }

  /** SET, RPUSH, a BLPOP that the push has already satisfied, then GET and PING, in one write. */
  private static Void blocking(int port, String prefix, String list, int rounds, CountDownLatch go)
      throws Exception {
    try (RespSocket s = new RespSocket("127.0.0.1", port)) {
      go.await(10, TimeUnit.SECONDS);
      for (int r = 0; r < rounds; r++) {
        String value = "b" + r;
        s.send(new String[] {"SET", prefix + "x", value}, new String[] {"RPUSH", list, value},
            new String[] {"BLPOP", list, "0"}, new String[] {"GET", prefix + "x"},
            new String[] {"PING"});
        assertEquals(OK, s.read(), "round " + r);
        assertEquals(":1\r\n", s.read(), "round " + r);
        assertEquals("*2\r\n" + bulk(list) + bulk(value), s.read(), "round " + r);
        assertEquals(bulk(value), s.read(), "round " + r);
        assertEquals("+PONG\r\n", s.read(), "round " + r);
      }
    }
    return null;
  }

  private static Void plain(int port, String prefix, int rounds, CountDownLatch go) throws Exception {
    try (RespSocket s = new RespSocket("127.0.0.1", port)) {
      go.await(10, TimeUnit.SECONDS);
      for (int r = 0; r < rounds; r++) {
        String[][] cmds = new String[60][];
        for (int i = 0; i < 60; i += 2) {
          cmds[i] = new String[] {"SET", prefix + i, "p" + r + "-" + i};
          cmds[i + 1] = new String[] {"GET", prefix + i};
        }
        s.send(cmds);
        for (int i = 0; i < 60; i += 2) {
          assertEquals(OK, s.read(), "round " + r + ", reply " + i);
          assertEquals(bulk("p" + r + "-" + i), s.read(), "round " + r + ", reply " + (i + 1));
        }
      }
    }
    return null;
  }

  /** Clients that send a long pipeline, read two replies and close with the rest in flight. */
  private static Void disconnecting(int port, String prefix, int times, CountDownLatch go)
      throws Exception {
    go.await(10, TimeUnit.SECONDS);
    for (int t = 0; t < times; t++) {
      try (RespSocket s = new RespSocket("127.0.0.1", port)) {
        String[][] cmds = new String[300][];
        for (int i = 0; i < cmds.length; i++) {
          cmds[i] = i % 2 == 0 ? new String[] {"SET", prefix + i, "d" + i} : new String[] {"GET", prefix + i};
        }
        s.send(cmds);
        assertEquals(OK, s.read());
        assertTrue(s.read().startsWith("$"));
      }
    }
    return null;
  }

  /** The pool of the only backend's default variant (made on first use). */
  private static BackendPool onlyPool(LoopbackListener proxy) {
    List<io.mproxy.core.balance.Backend> backends = proxy.cluster().backends();
    assertEquals(1, backends.size());
    return proxy.cluster().pool(backends.get(0), io.mproxy.core.cluster.Cluster.DEFAULT_VARIANT);
  }

  private static String bulk(String s) {
    return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
  }

  /** A lease whose connection the test waits for. */
  private static final class Grant implements BackendPool.Lease {
    final CompletableFuture<PooledConnection> future = new CompletableFuture<>();

    @Override
    public void granted(PooledConnection connection) {
      future.complete(connection);
    }

    @Override
    public void failed(Throwable cause) {
      future.completeExceptionally(cause);
    }

    PooledConnection get() throws Exception {
      return future.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
    }
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link io.mproxy.server.Daemon#shutdown()} (what SIGTERM runs) drains: new connections are
 * refused at once, while a command already in flight, here a 2 s BLPOP, still gets its reply
 * before its connection is closed.
 */
class GracefulShutdownTest {

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withServer("{ watch_config: false, shutdown_grace_ms: 10000 }"));
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first (already drained), then the backend
    }
  }

  @Test
  void inFlightBlpopGetsItsReplyWhileNewConnectionsAreRefused() throws Exception {
    try (RespConnection client = proxy.connect()) {
      assertEquals("PONG", client.call("PING"));
      long sent = System.nanoTime();
      client.send("BLPOP", "shutdown:nothing", "2");
      Eventually.assertWithin(Duration.ofSeconds(5),
          () -> assertEquals("1", RedisDirect.info(redis, "clients", "blocked_clients")));

      CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
        proxy.shutdown();
        return System.nanoTime();
      });
      Eventually.assertWithin(Duration.ofSeconds(1), () -> assertTrue(refusesNewConnections(),
          "a new connection is refused while draining"));

      client.readTimeout(Duration.ofSeconds(10));
      Object reply = client.read();
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
      assertNull(reply, "the BLPOP timed out normally (null reply), it was not cut off");
      assertTrue(waitedMs >= 1_900, "the reply came after the BLPOP's 2 s, not " + waitedMs + " ms");
      assertTrue(client.closedByPeerWithin(Duration.ofSeconds(10)), "the connection is closed after the drain");
      long drainedAfterMs = TimeUnit.NANOSECONDS.toMillis(drained.get(15, TimeUnit.SECONDS) - sent);
      assertTrue(drainedAfterMs >= 1_900, "the drain waited for the BLPOP in flight, returned after "
          + drainedAfterMs + " ms");
    }
  }

  /**
   * True when connecting fails, or the proxy answers with an error and closes, as it does for
   * connections accepted while it drains.
   */
  private static boolean refusesNewConnections() throws IOException {
    RespConnection c;
    try {
      c = proxy.connect();
    } catch (ConnectException refused) {
      return true;
    }
    try (c) {
      c.readTimeout(Duration.ofSeconds(2));
      c.send("PING");
      Object reply;
      try {
        reply = c.read();
      } catch (IOException closed) {
        return true;
      }
      return reply instanceof RespConnection.RespError e && e.message().contains("shutting down");
    }
  }
}

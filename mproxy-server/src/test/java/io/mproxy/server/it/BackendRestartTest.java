package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The backend crashes (SIGKILL) and comes back on the same port while the proxy keeps running:
 * clients get a prompt error meanwhile, never a hang, and recover on their own connections once
 * the pool has reconnected.
 */
class BackendRestartTest {

  /** What a command gets while no backend is available. */
  private static final Pattern UNAVAILABLE = Pattern.compile("(ERR )?mproxy: .*");
  private static final Duration PROMPT = Duration.ofSeconds(5);

  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static LettuceClients lettuce;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("pool: { min_idle: 2, max_size: 4, connect_timeout_ms: 1000, acquire_timeout_ms: 2000 }"));
    lettuce = new LettuceClients();
  }

  @AfterAll
  static void stopProxy() throws Exception {
    try (RedisServer r = redis; ProxyFixture p = proxy; LettuceClients l = lettuce) {
      // clients, proxy, backend
    }
  }

  @Test
  void clientsGetPromptErrorsWhileTheBackendIsDownAndRecoverAfterItsRestart() throws Exception {
    try (StatefulRedisConnection<String, String> lettuceConn = lettuce.client(proxy.uri()).connect();
        RespConnection raw = proxy.connect()) {
      assertEquals("OK", lettuceConn.sync().set("restart:k", "before"));
      assertEquals("before", raw.call("GET", "restart:k"));
      assertEquals("up", proxy.backendStatus().path("health").asText());

      redis.stop();

      raw.readTimeout(PROMPT);
      assertUnavailable(raw.call("GET", "restart:k"), "open raw connection");
      assertLettuceFailsPromptly(lettuceConn);
      try (RespConnection fresh = proxy.connect()) {
        fresh.readTimeout(PROMPT);
        assertUnavailable(fresh.call("GET", "restart:k"), "new raw connection");
        assertUnavailable(fresh.call("SET", "restart:k", "x"), "new raw connection, a write");
      }
      Eventually.assertWithin(Duration.ofSeconds(5),
          () -> assertEquals("down", proxy.backendStatus().path("health").asText()));

      redis.restart();

      Eventually.assertWithin(Duration.ofSeconds(15), () -> {
        assertEquals("OK", lettuceConn.sync().set("restart:k", "after"));
        assertEquals("after", lettuceConn.sync().get("restart:k"));
      });
      Eventually.assertWithin(Duration.ofSeconds(15), () -> assertEquals("after", raw.call("GET", "restart:k")));
      try (RespConnection fresh = proxy.connect()) {
        assertEquals("after", fresh.call("GET", "restart:k"));
      }
      assertEquals("after", redis.cli("GET", "restart:k"), "the write reached the restarted backend");
      Eventually.assertWithin(Duration.ofSeconds(15),
          () -> assertEquals("up", proxy.backendStatus().path("health").asText()));
    }
  }

  private static void assertUnavailable(Object reply, String who) {
    RespError e = assertInstanceOf(RespError.class, reply, who + " got " + reply);
    assertTrue(UNAVAILABLE.matcher(e.message()).matches(), who + ": " + e.message());
  }

  /** A command on the Lettuce connection fails within {@link #PROMPT}, with the proxy's error. */
  private static void assertLettuceFailsPromptly(StatefulRedisConnection<String, String> c) throws Exception {
    RedisFuture<String> reply = c.async().get("restart:k");
    try {
      String value = reply.get(PROMPT.toMillis(), TimeUnit.MILLISECONDS);
      fail("GET answered " + value + " with the backend down");
    } catch (TimeoutException e) {
      fail("no answer within " + PROMPT.toSeconds() + " s while the backend is down");
    } catch (ExecutionException e) {
      RedisCommandExecutionException error = assertInstanceOf(RedisCommandExecutionException.class, e.getCause());
      assertTrue(UNAVAILABLE.matcher(error.getMessage()).matches(), error.getMessage());
    }
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.ProtocolKeyword;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Redis hint pseudo-command through Lettuce and redis-cli against a real redis-server:
 * {@code MPROXY HINT timeout_ms=…} is answered {@code +OK} by the proxy and makes the
 * connection's following commands end with an {@code mproxy:} timeout error when the server
 * takes longer (a Lua script that busy-waits 1 s); {@code MPROXY HINT RESET} clears it, and a
 * tenant without {@code allow_hints} has the same hint ignored.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisHintsTest {

  /** Busy-waits ARGV[1] milliseconds inside the server, then returns 1. */
  private static final String BUSY = "local t = redis.call('TIME') "
      + "local start = t[1] * 1000000 + t[2] "
      + "while true do local n = redis.call('TIME') "
      + "if n[1] * 1000000 + n[2] - start > tonumber(ARGV[1]) * 1000 then break end end "
      + "return 1";

  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static LettuceClients lettuce;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("health: { interval_ms: 500, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 500 }")
        .withGroup("batch", "{ ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }")
        .withTenant("{ match: { application: hinted }, group: default, allow_hints: true }")
        .withTenant("{ match: { application: plain }, group: default }")
        .withTenant("{ match: { application: trial }, group: default, allow_hints: shadow }"));
    lettuce = new LettuceClients();
  }

  @AfterAll
  static void stop() throws Exception {
    try (RedisServer r = redis; ProxyFixture p = proxy; LettuceClients l = lettuce) {
      // clients, proxy, backend
    }
  }

  private enum Mproxy implements ProtocolKeyword {
    MPROXY;

    @Override
    public byte[] getBytes() {
      return name().getBytes(StandardCharsets.US_ASCII);
    }
  }

  private static String hint(RedisCommands<String, String> c, String... words) {
    CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("HINT");
    for (String w : words) {
      args.add(w);
    }
    return c.dispatch(Mproxy.MPROXY, new StatusOutput<>(StringCodec.UTF8), args);
  }

  private static StatefulRedisConnection<String, String> as(String clientName) {
    return lettuce.client(RedisURI.builder(proxy.uri()).withClientName(clientName)
        .withTimeout(Duration.ofSeconds(30)).build()).connect();
  }

  private static Object busy(RedisCommands<String, String> c, int ms) {
    return c.eval(BUSY, ScriptOutputType.INTEGER, new String[0], Integer.toString(ms));
  }

  @Test
  void aHintedTimeoutEndsASlowCommandWithAnMproxyError() {
    try (StatefulRedisConnection<String, String> conn = as("hinted")) {
      RedisCommands<String, String> c = conn.sync();
      assertEquals("OK", hint(c, "timeout_ms=200", "priority=low"));
      RedisCommandExecutionException e = assertThrows(RedisCommandExecutionException.class, () -> busy(c, 1000));
      assertTrue(e.getMessage().startsWith("mproxy: timeout") && e.getMessage().contains("timeout_ms=200"),
          e.getMessage());
      assertEquals("OK", hint(c, "RESET"));
      c.set("k", "v");
      assertEquals("v", c.get("k"), "the late reply was dropped: the next replies are in order");
      assertEquals(1L, busy(c, 500), "without the hint the slow script runs to its end");
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> {
      PromScrape m = proxy.metrics();
      assertTrue(m.sum("mproxy_hint_timeouts_total") >= 1, m.text());
      assertTrue(m.sum("mproxy_hints_total", "result", "applied") >= 1, m.text());
    });
  }

  @Test
  void aTenantWithoutAllowHintsHasTheHintIgnored() {
    try (StatefulRedisConnection<String, String> conn = as("plain")) {
      RedisCommands<String, String> c = conn.sync();
      assertEquals("OK", hint(c, "timeout_ms=100"), "the pseudo-command is answered for every tenant");
      assertEquals(1L, busy(c, 500), "but its timeout is not honoured");
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertTrue(proxy.metrics().sum("mproxy_hints_total", "result", "ignored") >= 1));
  }

  @Test
  void aTenantWithHintsInShadowIsCountedButNotMoved() {
    double batchBefore = proxy.metrics().sum("mproxy_requests_total", "group", "batch");
    try (StatefulRedisConnection<String, String> conn = as("trial")) {
      RedisCommands<String, String> c = conn.sync();
      assertEquals("OK", hint(c, "group=batch", "timeout_ms=100"));
      assertEquals(1L, busy(c, 500), "the shadowed timeout ends nothing");
      c.set("s", "1");
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> {
      PromScrape m = proxy.metrics();
      assertTrue(m.sum("mproxy_hints_total", "result", "shadow") >= 2, m.text());
      assertEquals(batchBefore, m.sum("mproxy_requests_total", "group", "batch"),
          "the shadowed group hint moved nothing to batch");
    });
  }

  @Test
  void aHintedGroupMovesTheConnectionsCommands() {
    double before = proxy.metrics().sum("mproxy_requests_total", "group", "batch");
    try (StatefulRedisConnection<String, String> conn = as("hinted")) {
      RedisCommands<String, String> c = conn.sync();
      assertEquals("OK", hint(c, "group=batch"));
      c.set("g", "1");
      c.get("g");
      c.get("g");
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(before + 3,
        proxy.metrics().sum("mproxy_requests_total", "group", "batch")));
  }

  @Test
  void redisCliGetsOkAndUsageErrors() {
    String host = "127.0.0.1";
    int port = proxy.port();
    assertEquals("OK", RedisServer.cliAt(host, port, "MPROXY", "HINT", "priority=high").strip());
    assertEquals("OK", RedisServer.cliAt(host, port, "MPROXY", "HINT", "RESET").strip());
    assertTrue(RedisServer.cliAt(host, port, "MPROXY", "NOPE").contains("usage: MPROXY HINT"));
  }
}

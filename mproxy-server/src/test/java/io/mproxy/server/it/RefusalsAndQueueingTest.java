package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a client sees when its group runs out of RU: in {@code reject} mode an {@code mproxy:}
 * error naming the group, the reason and when to retry, on a connection that stays usable; in
 * {@code queue} mode a delay instead, unless the wait would exceed {@code max_queue_ms}.
 */
class RefusalsAndQueueingTest {

  private static final Pattern RU_LIMIT_REFUSAL =
      Pattern.compile("mproxy: rejected group=(\\S+) reason=ru_limit retry_after_ms=(\\d+).*");

  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static LettuceClients lettuce;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    // No latency term: a GET costs its 1 RU base (plus a few bytes) however slow a loaded machine
    // makes it, so the burst and refill arithmetic below holds (with w_latency 0.5, a 100 ms GET
    // under load cost the whole 50 RU burst and nothing was admitted).
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("ru: { w_latency: 0 }")
        .withGroup("flood", "{ ru_per_sec: 50, burst: 50, on_exhausted: reject }")
        .withGroup("queued", "{ ru_per_sec: 50, burst: 5, on_exhausted: queue, max_queue_ms: 2000 }")
        .withGroup("tight", "{ ru_per_sec: 50, burst: 5, on_exhausted: queue, max_queue_ms: 1 }")
        .withTenant("{ match: { application: flood }, group: flood }")
        .withTenant("{ match: { application: queued }, group: queued }")
        .withTenant("{ match: { application: tight }, group: tight }"));
    lettuce = new LettuceClients();
    redis.cli("SET", "small", "v");
  }

  @AfterAll
  static void stopProxy() throws Exception {
    try (RedisServer r = redis; ProxyFixture p = proxy; LettuceClients l = lettuce) {
      // clients, proxy, backend
    }
  }

  @Test
  void floodIsRefusedWithMproxyErrorAndTheConnectionKeepsWorking() throws Exception {
    PromScrape before = proxy.metrics();
    RedisURI uri = RedisURI.builder(proxy.uri()).withClientName("flood").build();
    int n = 300;
    int ok = 0;
    List<String> refusals = new ArrayList<>();
    PromScrape after;
    try (StatefulRedisConnection<String, String> c = lettuce.client(uri).connect()) {
      c.setAutoFlushCommands(false);
      List<RedisFuture<String>> replies = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        replies.add(c.async().get("small"));
      }
      c.flushCommands();
      for (RedisFuture<String> f : replies) {
        assertTrue(f.await(20, TimeUnit.SECONDS), "every GET is answered");
      }
      c.setAutoFlushCommands(true);
      for (RedisFuture<String> f : replies) {
        try {
          assertEquals("v", f.toCompletableFuture().join());
          ok++;
        } catch (CompletionException e) {
          RedisCommandExecutionException refused = assertInstanceOf(RedisCommandExecutionException.class, e.getCause());
          refusals.add(refused.getMessage());
        }
      }
      // GETs cost 1 RU each (plus a few bytes): 300 at once are far beyond a 50 RU burst
      assertTrue(ok > 0, "the burst admits some GETs");
      assertTrue(refusals.size() >= n / 2, "most of " + n + " GETs beyond 50 RU are refused: " + refusals.size());
      long maxRetryAfter = 0;
      for (String message : refusals) {
        Matcher m = RU_LIMIT_REFUSAL.matcher(message);
        assertTrue(m.matches(), "refusal text: " + message);
        assertEquals("flood", m.group(1));
        long retryAfter = Long.parseLong(m.group(2));
        // at most the time to refill max_debt (= burst, 50 RU) plus one GET, at 50 RU/s
        assertTrue(retryAfter >= 1 && retryAfter <= 1_500, "retry_after_ms: " + message);
        maxRetryAfter = Math.max(maxRetryAfter, retryAfter);
      }

      after = proxy.metrics();

      // the same connection, after the advertised wait, works again
      TimeUnit.MILLISECONDS.sleep(maxRetryAfter);
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals("v", c.sync().get("small")));
      // a SET costs 6 RU (the write base): it may need a little more refill than the GET did
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals("OK", c.sync().set("flood:after", "fine")));
    }

    assertEquals(refusals.size(),
        after.sum("mproxy_shed_total", "group", "flood", "reason", "ru_limit")
            - before.sum("mproxy_shed_total", "group", "flood", "reason", "ru_limit"),
        "mproxy_shed_total{reason=ru_limit} counts every refusal");
    assertEquals(refusals.size(),
        after.sum("mproxy_requests_total", "group", "flood", "outcome", "rejected")
            - before.sum("mproxy_requests_total", "group", "flood", "outcome", "rejected"),
        "mproxy_requests_total{outcome=rejected} counts every refusal");
    assertTrue(after.sum("mproxy_requests_total", "group", "flood", "outcome", "ok")
        - before.sum("mproxy_requests_total", "group", "flood", "outcome", "ok") >= ok);
    assertTrue(proxy.groupStatus("flood").path("rejected").asLong() >= refusals.size(),
        "/api/status counts the group's rejections");
  }

  @Test
  void queueModeDelaysInsteadOfRejecting() throws Exception {
    int n = 40;
    PromScrape before = proxy.metrics();
    long elapsedNanos;
    try (RespConnection c = proxy.connect()) {
      assertEquals("OK", c.call("CLIENT", "SETNAME", "queued"));
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        c.write("GET", "small");
      }
      c.flush();
      List<Object> replies = c.read(n);
      elapsedNanos = System.nanoTime() - start;
      for (int i = 0; i < n; i++) {
        assertEquals("v", replies.get(i), "reply " + i + " (queued, not refused)");
      }
    }
    // Every GET costs at least 1 RU; 5 come from the burst, the other 35 need 35 RU of refill at
    // 50 RU/s: at least 0.7 s. Finishing much sooner would mean the limit was not applied.
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
    assertTrue(elapsedMs >= 600, "40 GETs at 50 RU/s were delayed, took only " + elapsedMs + " ms");
    PromScrape after = proxy.metrics();
    double waited = after.sum("mproxy_queue_wait_seconds_count", "group", "queued")
        - before.sum("mproxy_queue_wait_seconds_count", "group", "queued");
    assertTrue(waited > 0, "mproxy_queue_wait_seconds counts the GETs that waited: " + waited);
    assertEquals(0, proxy.groupStatus("queued").path("rejected").asLong());
    assertEquals(0, after.sum("mproxy_shed_total", "group", "queued"));
  }

  @Test
  void queueModeRejectsWhatWouldWaitLongerThanMaxQueueMs() throws Exception {
    int n = 40;
    int refused = 0;
    try (RespConnection c = proxy.connect()) {
      assertEquals("OK", c.call("CLIENT", "SETNAME", "tight"));
      for (int i = 0; i < n; i++) {
        c.write("GET", "small");
      }
      c.flush();
      for (Object reply : c.read(n)) {
        if (reply instanceof RespError e) {
          assertTrue(e.startsWith("mproxy: rejected group=tight reason="), "refusal text: " + e.message());
          refused++;
        } else {
          assertEquals("v", reply);
        }
      }
      assertTrue(refused > 0, "a 1 ms queue cannot hold 40 GETs at 50 RU/s");
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals("v", c.call("GET", "small")));
    }
  }
}

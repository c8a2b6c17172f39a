package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.PromScrape.Sample;
import io.mproxy.testkit.RedisServer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * After ordinary, refused and queued traffic and a reload, {@code /metrics} has every metric
 * CONTRACT.md names, with at least the labels it lists (more may be added, none renamed), and
 * {@code /healthz} answers 200.
 */
class MetricsContractTest {

  /** CONTRACT.md metric → its labels; histograms are checked through their _bucket series. */
  private static final Map<String, Set<String>> CONTRACT = Map.ofEntries(
      Map.entry("mproxy_requests_total", Set.of("listener", "protocol", "group", "outcome")),
      Map.entry("mproxy_ru_total", Set.of("group", "kind")),
      Map.entry("mproxy_request_duration_seconds_bucket", Set.of("listener", "group", "le")),
      Map.entry("mproxy_queue_wait_seconds_bucket", Set.of("group", "priority", "le")),
      Map.entry("mproxy_shed_total", Set.of("group", "priority", "reason")),
      Map.entry("mproxy_backend_inflight", Set.of("cluster", "backend")),
      Map.entry("mproxy_pool_connections", Set.of("cluster", "backend", "state")),
      Map.entry("mproxy_client_connections", Set.of("listener")),
      Map.entry("mproxy_ru_share_per_sec", Set.of("group")),
      Map.entry("mproxy_cluster_members", Set.of()),
      Map.entry("mproxy_config_reloads_total", Set.of("result")),
      Map.entry("mproxy_would_shed_total", Set.of("group", "priority", "reason")),
      Map.entry("mproxy_backend_circuit_state", Set.of("cluster", "backend")));

  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static ProxyConfigText config;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    config = ProxyConfigText.forBackend(redis.address())
        .withGroup("tiny", "{ ru_per_sec: 5, burst: 5, on_exhausted: reject }")
        .withGroup("waiting", "{ ru_per_sec: 100, burst: 2, on_exhausted: queue, max_queue_ms: 2000 }")
        .withGroup("shadowy", "{ ru_per_sec: 5, burst: 5, on_exhausted: reject, mode: shadow }")
        .withTenant("{ match: { application: tiny }, group: tiny }")
        .withTenant("{ match: { application: shadowy }, group: shadowy }")
        .withTenant("{ match: { application: waiting }, group: waiting }");
    proxy = ProxyFixture.start(config);
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  /**
   * A listener's series is read from one object for the listener's life: a fresh object per call
   * re-registered the gauge on every refresh (once a second), racing with scrapes into
   * "Duplicate labels for metric mproxy_client_connections".
   */
  @Test
  void aListenersGaugeSourceIsStableAcrossRefreshes() {
    List<?> first = proxy.daemon().server().listeners();
    List<?> second = proxy.daemon().server().listeners();
    assertEquals(first.size(), second.size());
    for (int i = 0; i < first.size(); i++) {
      assertSame(first.get(i), second.get(i));
    }
  }

  @Test
  void everyContractMetricIsExposedWithItsLabels() throws Exception {
    try (RespConnection plain = proxy.connect();
        RespConnection tiny = proxy.connect();
        RespConnection waiting = proxy.connect();
        RespConnection shadowy = proxy.connect()) {
      assertEquals("OK", plain.call("SET", "m:k", "v"));
      assertEquals("v", plain.call("GET", "m:k"));

      assertEquals("OK", tiny.call("CLIENT", "SETNAME", "tiny"));
      for (int i = 0; i < 20; i++) {
        tiny.write("GET", "m:k");
      }
      tiny.flush();
      assertTrue(tiny.read(20).stream().anyMatch(r -> r instanceof RespConnection.RespError), "some GETs refused");

      assertEquals("OK", waiting.call("CLIENT", "SETNAME", "waiting"));
      for (int i = 0; i < 10; i++) {
        waiting.write("GET", "m:k");
      }
      waiting.flush();
      assertEquals(List.of("v", "v", "v", "v", "v", "v", "v", "v", "v", "v"), waiting.read(10));

      assertEquals("OK", shadowy.call("CLIENT", "SETNAME", "shadowy"));
      for (int i = 0; i < 20; i++) {
        shadowy.write("GET", "m:k");
      }
      shadowy.flush();
      assertTrue(shadowy.read(20).stream().allMatch("v"::equals), "a shadow group refuses nothing");

      ProxyFixture.Http reload = proxy.post("/api/reload");
      assertEquals(200, reload.status(), reload.body());

      PromScrape scrape = proxy.metrics();
      for (Map.Entry<String, Set<String>> metric : CONTRACT.entrySet()) {
        List<Sample> samples = scrape.samples(metric.getKey());
        assertFalse(samples.isEmpty(), metric.getKey() + " is missing from /metrics:\n" + scrape.text());
        for (Sample s : samples) {
          assertTrue(s.labels().keySet().containsAll(metric.getValue()),
              metric.getKey() + " has labels " + s.labels().keySet() + ", CONTRACT.md lists " + metric.getValue());
        }
      }
      assertTrue(scrape.sum("mproxy_requests_total", "outcome", "ok", "group", "default") >= 2);
      assertTrue(scrape.sum("mproxy_requests_total", "outcome", "rejected", "group", "tiny") >= 1);
      assertTrue(scrape.sum("mproxy_shed_total", "group", "tiny", "reason", "ru_limit") >= 1);
      assertTrue(scrape.sum("mproxy_queue_wait_seconds_count", "group", "waiting") >= 1);
      assertTrue(scrape.sum("mproxy_ru_total", "group", "default", "kind", "write") > 0);
      assertTrue(scrape.sum("mproxy_ru_total", "group", "default", "kind", "read") > 0);
      assertEquals(4, scrape.sum("mproxy_client_connections", "listener", ProxyConfigText.LISTENER));
      assertTrue(scrape.sum("mproxy_would_shed_total", "group", "shadowy", "reason", "ru_limit") >= 1);
      assertEquals(0, scrape.sum("mproxy_backend_circuit_state", "cluster", ProxyConfigText.CLUSTER));
      assertEquals(1, scrape.sum("mproxy_config_reloads_total", "result", "ok"));
      assertEquals(1, scrape.sum("mproxy_cluster_members"));
      assertTrue(scrape.sum("mproxy_pool_connections", "cluster", ProxyConfigText.CLUSTER) >= 1);
      assertEquals(5, scrape.sum("mproxy_ru_share_per_sec", "group", "tiny"));
    }

    ProxyFixture.Http health = proxy.get("/healthz");
    assertEquals(200, health.status(), health.body());
  }
}

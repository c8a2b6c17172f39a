package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.ServerError;
import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What core's QoS does, applied to CQL, through the Java driver against the real node: the
 * priority gate with CoDel sheds a LOW flood (LOW by a {@code priority=low} hint) with Overloaded
 * while HIGH is served; runaway rules reject a fingerprint and watch another; hints move requests
 * to another group (comment, {@code RESOURCE_GROUP}, prepared text, custom payload) and end them
 * at {@code timeout_ms}, and are ignored without {@code allow_hints}; a shadow group refuses
 * nothing and counts what it would have; a fleet block with no peers runs each group at its
 * fallback share; every circuit open refuses with {@code reason=circuit_open}. One proxy per test,
 * one node for all.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CqlQosTest {

  private static final String USERS = ", { name: vip, password: pw }, { name: flood, password: pw }"
      + ", { name: hinted, password: pw }, { name: plain, password: pw }";
  private static final int BIG_ROWS = 3000;
  /** A full scan of {@value #BIG_ROWS} rows: milliseconds on the node, whatever the machine. */
  private static final String SCAN = "SELECT count(*) FROM qos.big";

  private static CassandraServer node;
  private final List<ProxyFixture> proxies = new ArrayList<>();
  private final List<CqlSession> sessions = new ArrayList<>();

  @BeforeAll
  static void createTables() throws Exception {
    node = CassandraServer.shared();
    try (ProxyFixture setup = CassandraProxy.start(node, 2, "", "");
        CqlSession s = CassandraProxy.session(setup, CassandraProxy.USER, CassandraProxy.PASSWORD, "V5", null, false)) {
      s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS qos WITH replication ="
          + " {'class': 'SimpleStrategy', 'replication_factor': 1}").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS qos.big (p int, c int, v text,"
          + " PRIMARY KEY (p, c))").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS qos.kv (k int PRIMARY KEY, v text)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO qos.big (p, c, v) VALUES (?, ?, ?)");
      List<CompletableFuture<AsyncResultSet>> window = new ArrayList<>();
      for (int i = 0; i < BIG_ROWS; i++) {
        window.add(s.executeAsync(insert.bind(i % 30, i, "value-" + i)).toCompletableFuture());
        if (window.size() == 100) {
          CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
          window.clear();
        }
      }
      CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      s.execute("INSERT INTO qos.kv (k, v) VALUES (1, 'one')");
    }
  }

  @AfterEach
  void stopAll() {
    sessions.forEach(CqlSession::close);
    proxies.forEach(ProxyFixture::close);
  }

  private ProxyFixture proxy(String clusterExtra, String tail) throws Exception {
    ProxyFixture p = CassandraProxy.start(node, 2, USERS, clusterExtra, tail);
    proxies.add(p);
    return p;
  }

  private CqlSession session(ProxyFixture proxy, String user) {
    CqlSession s = CassandraProxy.session(proxy, user, user.equals(CassandraProxy.USER) ? CassandraProxy.PASSWORD : "pw",
        "V5", null, false);
    sessions.add(s);
    return s;
  }

  private static long count(CqlSession s, String cql) {
    return s.execute(cql).one().getLong(0);
  }

  // ------------------------------------------------------------------ priorities and CoDel

  /**
   * max_inflight 2: the flood keeps 40 scans in flight, so LOW requests wait behind ~20 others
   * while the one HIGH client waits at most for a running scan and gets the freed slot first.
   * CoDel's target is set from the scan's own median latency on this machine now (4x it), so
   * LOW's wait (~20 scans) is far above it and HIGH's (at most one scan) below it, however loaded
   * the machine is; the interval (10x target) outlasts the drain of the queue once LOW is shed, so
   * CoDel does not climb to HIGH. The flood's group is NORMAL; its statements are LOW by hint.
   */
  @Test
  void aLowFloodIsShedWithOverloadedWhileHighIsServed() throws Exception {
    long scanMs = medianScanMillis();
    long targetMs = Math.max(20, 4 * scanMs);
    ProxyFixture proxy = proxy("", "codel: { target_ms: " + targetMs + ", interval_ms: " + 10 * targetMs
        + ", max_inflight: 2, max_queued: 10000, max_wait_ms: 60000 }\n"
        + "resource_groups:\n"
        + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
        + "  flood: { ru_per_sec: 1000000, burst: 1000000, priority: normal }\n"
        + "  vip: { ru_per_sec: 1000000, burst: 1000000, priority: high }\n"
        + "tenants:\n"
        + "  - { match: { user: flood }, group: flood, allow_hints: true }\n"
        + "  - { match: { user: vip }, group: vip }\n");
    CqlSession flood = session(proxy, "flood");
    CqlSession vip = session(proxy, "vip");
    Map<String, AtomicInteger> lowOutcomes = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Semaphore inFlight = new Semaphore(40);
    SimpleStatement lowScan = SimpleStatement.newInstance("/* mproxy: priority=low */ " + SCAN);
    Thread driver = new Thread(() -> {
      while (!stop.get()) {
        try {
          if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            continue;
          }
        } catch (InterruptedException e) {
          return;
        }
        flood.executeAsync(lowScan).whenComplete((rs, e) -> {
          inFlight.release();
          String key = e == null ? "ok" : e instanceof OverloadedException o
              && (o.getMessage().contains("reason=codel") || o.getMessage().contains("reason=queue_full"))
              ? "overloaded" : e.toString();
          lowOutcomes.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        });
      }
    }, "cql-low-flood");
    driver.start();
    try {
      Eventually.assertWithin(Duration.ofSeconds(60), () -> assertTrue(count(lowOutcomes, "overloaded") > 0,
          "the LOW flood is shed: " + lowOutcomes));
      for (int i = 0; i < 30; i++) {
        assertEquals("one", vip.execute("SELECT v FROM qos.kv WHERE k = 1").one().getString(0));
      }
    } finally {
      stop.set(true);
      driver.join(10_000);
    }
    assertTrue(inFlight.tryAcquire(40, 60, TimeUnit.SECONDS), "every LOW request was answered");
    assertEquals(0.0, proxy.metrics().sum("mproxy_shed_total", "group", "vip"), "HIGH was never shed");
    assertTrue(proxy.metrics().sum("mproxy_shed_total", "group", "flood", "priority", "low", "reason", "codel") > 0,
        "shed as LOW (the hint), by CoDel: " + proxy.metrics().samples("mproxy_shed_total"));
    assertTrue(count(lowOutcomes, "ok") > 0, "LOW still gets some service: " + lowOutcomes);
    assertEquals(count(lowOutcomes, "ok") + count(lowOutcomes, "overloaded"),
        lowOutcomes.values().stream().mapToInt(AtomicInteger::get).sum(),
        "LOW refusals are all Overloaded with reason=codel or queue_full: " + lowOutcomes);
  }

  /** The median time of one scan through a proxy without QoS limits (11 runs after a warm-up). */
  private long medianScanMillis() throws Exception {
    ProxyFixture plain = proxy("", "");
    CqlSession s = session(plain, CassandraProxy.USER);
    count(s, SCAN);
    long[] ms = new long[11];
    for (int i = 0; i < ms.length; i++) {
      long t0 = System.nanoTime();
      count(s, SCAN);
      ms[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
    java.util.Arrays.sort(ms);
    System.out.printf("CqlQosTest: median scan %d ms (min %d, max %d)%n", ms[5], ms[0], ms[10]);
    return ms[5];
  }

  private static int count(Map<String, AtomicInteger> outcomes, String key) {
    AtomicInteger n = outcomes.get(key);
    return n == null ? 0 : n.get();
  }

  // ------------------------------------------------------------------ runaway rules

  @Test
  void runawayRulesRejectOneFingerprintAndWatchAnother() throws Exception {
    ProxyFixture proxy = proxy("", "");
    CqlSession s = session(proxy, CassandraProxy.USER);
    assertEquals("one", s.execute("SELECT v FROM qos.kv WHERE k = 1").one().getString(0));
    assertEquals(BIG_ROWS, count(s, SCAN));
    JsonNode kv = fingerprint(proxy, "qos.kv");
    JsonNode scan = fingerprint(proxy, "qos.big");
    String base = new String(java.nio.file.Files.readAllBytes(proxy.configFile()), StandardCharsets.UTF_8);
    proxy.rewriteConfig(base + "runaway:\n  rules:\n"
        + "    - { name: no-kv, match: { fingerprint: '" + kv.path("id").asText() + "' }, action: reject }\n"
        + "    - { name: scan-watch, match: { fingerprint: '" + scan.path("id").asText() + "'"
        + " }, elapsed_ms_above: 1, action: watch, cooldown_ms: 1000 }\n");
    ProxyFixture.Http reload = proxy.post("/api/reload");
    assertEquals(200, reload.status(), reload.body());

    OverloadedException e = assertThrows(OverloadedException.class,
        () -> s.execute("SELECT v FROM qos.kv WHERE k = 2"));
    assertTrue(e.getMessage().contains("mproxy: rejected group=default reason=runaway"), e.getMessage());
    assertTrue(e.getMessage().contains("runaway rule no-kv"), e.getMessage());
    for (int i = 0; i < 3; i++) {
      assertEquals(BIG_ROWS, count(s, SCAN), "the watched shape still runs");
    }
    assertTrue(proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "no-kv", "action", "reject") >= 1);
    assertTrue(proxy.metrics().sum("mproxy_shed_total", "reason", "runaway") >= 1);
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertTrue(
        proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "scan-watch", "action", "watch") >= 1,
        proxy.metrics().samples("mproxy_runaway_actions_total").toString()));
  }

  /** The /api/fingerprints entry whose text contains {@code part}. */
  private static JsonNode fingerprint(ProxyFixture proxy, String part) {
    JsonNode all = proxy.get("/api/fingerprints?top=100").json();
    for (JsonNode f : all) {
      if (f.path("fingerprint").asText().contains(part)) {
        return f;
      }
    }
    throw new AssertionError("no fingerprint with " + part + " in " + all);
  }

  // ------------------------------------------------------------------ hints

  @Test
  void hintsMoveRequestsToAGroupAndEndThemAtTimeoutMs() throws Exception {
    ProxyFixture proxy = proxy("", "resource_groups:\n"
        + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
        + "  batch: { ru_per_sec: 1000000, burst: 1000000, priority: low }\n"
        + "tenants:\n"
        + "  - { match: { user: hinted }, group: default, allow_hints: true }\n"
        + "  - { match: { user: plain }, group: default }\n");
    CqlSession hinted = session(proxy, "hinted");
    CqlSession plain = session(proxy, "plain");

    // group: a comment, the optimizer-hint form, a prepared statement's text, the custom payload
    hinted.execute("/* mproxy: group=batch */ SELECT v FROM qos.kv WHERE k = 1");
    hinted.execute("/*+ RESOURCE_GROUP(batch) */ SELECT v FROM qos.kv WHERE k = 1");
    PreparedStatement prepared = hinted.prepare("/* mproxy: group=batch */ SELECT v FROM qos.kv WHERE k = ?");
    for (int i = 0; i < 3; i++) {
      assertEquals("one", hinted.execute(prepared.bind(1)).one().getString(0));
    }
    hinted.execute(SimpleStatement.newInstance("SELECT v FROM qos.kv WHERE k = 1")
        .setCustomPayload(Map.of("mproxy", ByteBuffer.wrap("group=batch".getBytes(StandardCharsets.UTF_8)))));
    // 2 comments + PREPARE + 3 EXECUTE + 1 payload
    assertEquals(7.0, proxy.metrics().sum("mproxy_requests_total", "group", "batch", "outcome", "ok"),
        proxy.metrics().samples("mproxy_requests_total").toString());
    assertTrue(proxy.metrics().sum("mproxy_hints_total", "result", "applied") >= 7);

    // timeout_ms: the client gets Server error at once; the node's late answer is dropped
    ServerError timeout = assertThrows(ServerError.class,
        () -> hinted.execute("/* mproxy: timeout_ms=1 */ " + SCAN));
    assertTrue(timeout.getMessage().contains("mproxy: timeout group=default reason=timeout_ms (timeout_ms=1"),
        timeout.getMessage());
    assertEquals("one", hinted.execute("SELECT v FROM qos.kv WHERE k = 1").one().getString(0),
        "the session stays usable");
    Eventually.assertWithin(Duration.ofSeconds(20), () -> {
      assertTrue(proxy.metrics().sum("mproxy_hint_timeouts_total") >= 1);
      assertTrue(proxy.metrics().sum("mproxy_requests_total", "outcome", "timeout") >= 1,
          "the ticket ends as a timeout when the node's answer comes");
    });

    // without allow_hints: no group change, no timeout, counted as ignored
    double ignored = proxy.metrics().sum("mproxy_hints_total", "result", "ignored");
    assertEquals(BIG_ROWS, count(plain, "/* mproxy: timeout_ms=1 group=batch */ " + SCAN));
    assertEquals(7.0, proxy.metrics().sum("mproxy_requests_total", "group", "batch"));
    assertTrue(proxy.metrics().sum("mproxy_hints_total", "result", "ignored") >= ignored + 1);
  }

  // ------------------------------------------------------------------ shadow mode

  @Test
  void aShadowGroupRefusesNothingAndCountsWhatItWould() throws Exception {
    ProxyFixture proxy = proxy("", "resource_groups:\n"
        + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
        + "  watch: { ru_per_sec: 1, burst: 5, on_exhausted: reject, mode: shadow }\n"
        + "  limit: { ru_per_sec: 1000000, burst: 1000000 }\n"
        + "tenants:\n"
        + "  - { match: { user: hinted }, group: watch }\n"
        + "  - { match: { user: plain }, group: limit }\n");
    CqlSession shadowed = session(proxy, "hinted");
    // the enforced tenant's driver starts while its budget is wide (its start-up queries are
    // requests too), then the same budget as the shadow group's is reloaded in
    CqlSession enforced = session(proxy, "plain");
    String text = new String(java.nio.file.Files.readAllBytes(proxy.configFile()), StandardCharsets.UTF_8);
    proxy.rewriteConfig(text.replace("  limit: { ru_per_sec: 1000000, burst: 1000000 }",
        "  limit: { ru_per_sec: 1, burst: 5, on_exhausted: reject }"));
    ProxyFixture.Http reload = proxy.post("/api/reload");
    assertEquals(200, reload.status(), reload.body());
    for (int i = 0; i < 40; i++) {
      assertEquals("one", shadowed.execute("SELECT v FROM qos.kv WHERE k = 1").one().getString(0),
          "a shadow group refuses nothing");
    }
    JsonNode watch = proxy.groupStatus("watch");
    assertTrue(watch.path("would_reject").asLong() > 0, "counted what enforce would have refused: " + watch);
    assertEquals(0.0, proxy.metrics().sum("mproxy_shed_total", "group", "watch"));
    int refused = 0;
    for (int i = 0; i < 40; i++) {
      try {
        enforced.execute("SELECT v FROM qos.kv WHERE k = 1");
      } catch (OverloadedException e) {
        assertTrue(e.getMessage().contains("reason=ru_limit"), e.getMessage());
        refused++;
      }
    }
    assertTrue(refused > 0, "the same budget enforced refuses with Overloaded");
  }

  // ------------------------------------------------------------------ fleet budget

  @Test
  void aFleetWithoutPeersRunsEachGroupAtItsFallbackShare() throws Exception {
    ProxyFixture proxy = proxy("", "resource_groups:\n"
        + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
        + "  fleet: { ru_per_sec: 3000, burst: 3000, on_exhausted: reject }\n"
        + "tenants:\n"
        + "  - { match: { user: hinted }, group: fleet }\n"
        + "cluster:\n"
        + "  bind: 127.0.0.1:" + FreePort.loopback() + "\n"
        + "  seeds: []\n"
        + "  expected_nodes: 3\n"
        + "  gossip_interval_ms: 200\n"
        + "  stale_after_ms: 2000\n");
    CqlSession s = session(proxy, "hinted");
    for (int i = 0; i < 5; i++) {
      assertEquals("one", s.execute("SELECT v FROM qos.kv WHERE k = 1").one().getString(0));
    }
    Eventually.assertWithin(Duration.ofSeconds(30), () -> {
      JsonNode fleet = proxy.groupStatus("fleet");
      assertEquals("fallback", fleet.path("share_mode").asText(), fleet.toString());
      assertEquals(1000.0, fleet.path("share_ru_per_sec").asDouble(), 1.0, "3000 / expected_nodes: " + fleet);
      assertEquals(1, fleet.path("fleet_members").asInt(), fleet.toString());
    });
  }

  // ------------------------------------------------------------------ circuit breaker

  @Test
  void everyCircuitOpenRefusesWithCircuitOpen() throws Exception {
    ProxyFixture proxy = proxy("    circuit: { error_rate: 0.5, min_requests: 5, window_ms: 60000, open_ms: 60000 }\n",
        "");
    CqlSession s = session(proxy, CassandraProxy.USER);
    for (int i = 0; i < 10; i++) {
      try {
        s.execute("SELECT * FROM qos.no_such_table_" + i);
      } catch (com.datastax.oss.driver.api.core.servererrors.InvalidQueryException
          | OverloadedException expected) {
        // the node's Invalid counts as a backend error; once open, Overloaded
      }
    }
    OverloadedException e = assertThrows(OverloadedException.class,
        () -> s.execute("SELECT v FROM qos.kv WHERE k = 1"));
    assertTrue(e.getMessage().contains("reason=circuit_open"), e.getMessage());
    assertTrue(e.getMessage().startsWith("mproxy: rejected") || e.getMessage().contains("mproxy: rejected"),
        e.getMessage());
    assertTrue(proxy.metrics().sum("mproxy_shed_total", "reason", "circuit_open") >= 1);
  }
}

package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The QoS features of core through MariaDB Connector/J against MariaDB: the priority gate with
 * CoDel sheds a LOW flood with ERR 1226 while HIGH is served; a shadow group admits what its
 * budget would refuse and counts it; two mproxy nodes share one group's budget over gossip.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class QosTest {

  private static MariaDbServer db;
  private final List<ProxyFixture> proxies = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final AtomicBoolean stop = new AtomicBoolean();

  @BeforeAll
  static void start() {
    db = MariaDbServer.start();
  }

  @AfterAll
  static void stopDb() {
    if (db != null) {
      db.close();
    }
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    stop.set(true);
    pool.shutdown();
    pool.awaitTermination(60, TimeUnit.SECONDS);
    proxies.forEach(ProxyFixture::close);
  }

  private ProxyFixture start(MysqlProxy proxy) throws Exception {
    ProxyFixture p = proxy.start();
    proxies.add(p);
    return p;
  }

  private static String url(ProxyFixture proxy, String user) {
    return "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE + "?user=" + user
        + "&password=pw";
  }

  /**
   * max_inflight 2 over a pool of 2: 24 LOW clients each run 20 ms statements back to back, so
   * the LOW queue's sojourn is ~12 statements (~250 ms, well above the 100 ms target); the one
   * HIGH client waits at most for one running statement, and a freed slot goes to HIGH first.
   */
  @Test
  void aLowFloodIsShedWhileHighIsServed() throws Exception {
    ProxyFixture proxy = start(new MysqlProxy(db).user("flood", "pw").user("vip", "pw")
        .pool("pool: { mode: transaction, min_idle: 2, max_size: 2, acquire_timeout_ms: 30000 }")
        .tail("codel: { target_ms: 100, interval_ms: 200, max_inflight: 2, max_queued: 10000, max_wait_ms: 20000 }\n"
            + "resource_groups:\n"
            + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
            + "  flood: { ru_per_sec: 1000000, burst: 1000000, priority: low }\n"
            + "  vip: { ru_per_sec: 1000000, burst: 1000000, priority: high }\n"
            + "tenants:\n"
            + "  - { match: { user: flood }, group: flood }\n"
            + "  - { match: { user: vip }, group: vip }\n"));
    Map<String, AtomicInteger> lowOutcomes = new ConcurrentHashMap<>();
    List<Future<?>> flood = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      flood.add(pool.submit(() -> {
        while (!stop.get()) {
          // the connector's own start-up statements are LOW requests too, and may be shed
          try (Connection c = MysqlProxy.connect(url(proxy, "flood")); Statement s = c.createStatement()) {
            while (!stop.get()) {
              try (ResultSet rs = s.executeQuery("SELECT SLEEP(0.02)")) {
                rs.next();
                lowOutcomes.computeIfAbsent("ok", k -> new AtomicInteger()).incrementAndGet();
              } catch (SQLException e) {
                lowOutcomes.computeIfAbsent(key(e), k -> new AtomicInteger()).incrementAndGet();
              }
            }
          } catch (SQLException e) {
            lowOutcomes.computeIfAbsent(key(rootCause(e)), k -> new AtomicInteger()).incrementAndGet();
          }
        }
        return null;
      }));
    }
    Eventually.assertWithin(Duration.ofSeconds(60), () -> assertTrue(count(lowOutcomes, "1226 codel") > 0,
        "the LOW flood is shed by CoDel: " + lowOutcomes));
    int highOk = 0;
    try (Connection c = MysqlProxy.connect(url(proxy, "vip")); Statement s = c.createStatement()) {
      for (int i = 0; i < 30; i++) {
        try (ResultSet rs = s.executeQuery("SELECT " + i)) {
          assertTrue(rs.next());
          assertEquals(i, rs.getInt(1));
          highOk++;
        }
      }
    }
    stop.set(true);
    for (Future<?> f : flood) {
      f.get(60, TimeUnit.SECONDS);
    }
    assertEquals(30, highOk, "every HIGH statement was served");
    assertEquals(0.0, proxy.metrics().sum("mproxy_shed_total", "group", "vip"), "HIGH was never shed");
    assertTrue(proxy.metrics().sum("mproxy_shed_total", "group", "flood", "reason", "codel") > 0);
    assertTrue(count(lowOutcomes, "ok") > 0, "LOW still gets some service: " + lowOutcomes);
    assertEquals(0, count(lowOutcomes, "1226 other") + otherErrors(lowOutcomes),
        "LOW refusals are all ERR 1226 ... reason=codel: " + lowOutcomes);
  }

  @Test
  void aShadowGroupAdmitsWhatItsBudgetWouldRefuseAndCountsIt() throws Exception {
    ProxyFixture proxy = start(new MysqlProxy(db).user("shadowed", "pw").user("enforced", "pw")
        .tail("resource_groups:\n"
            + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
            + "  watch: { ru_per_sec: 1, burst: 5, on_exhausted: reject, mode: shadow }\n"
            + "  limit: { ru_per_sec: 1, burst: 5, on_exhausted: reject }\n"
            + "tenants:\n"
            + "  - { match: { user: shadowed }, group: watch }\n"
            + "  - { match: { user: enforced }, group: limit }\n"));
    try (Connection c = MysqlProxy.connect(url(proxy, "shadowed")); Statement s = c.createStatement()) {
      for (int i = 0; i < 40; i++) {
        try (ResultSet rs = s.executeQuery("SELECT " + i)) {
          assertTrue(rs.next(), "a shadow group refuses nothing");
        }
      }
    }
    JsonNode watch = proxy.groupStatus("watch");
    assertTrue(watch.path("would_reject").asLong() > 0, "counted what enforce would have refused: " + watch);
    int refused = 0;
    try (Connection c = MysqlProxy.connect(url(proxy, "enforced")); Statement s = c.createStatement()) {
      for (int i = 0; i < 40; i++) {
        try (ResultSet rs = s.executeQuery("SELECT " + i)) {
          rs.next();
        } catch (SQLException e) {
          assertEquals(1226, e.getErrorCode(), e.getMessage());
          refused++;
        }
      }
    }
    assertTrue(refused > 0, "the same budget enforced refuses with ERR 1226");
  }

  /**
   * Nodes A and B share the group {@code fleet} of 100 RU/s over gossip (a 20 kB answer costs
   * about 20 RU, so four clients on A ask for far more). With clients on A
   * only, A's share of the budget grows to nearly all of it and B's shrinks; the shares always
   * add up to the limit.
   */
  @Test
  void twoNodesShareAGroupsBudget() throws Exception {
    int[] gossip = {FreePort.loopback(), FreePort.loopback()};
    for (int i = 0; i < 2; i++) {
      String fleet = "cluster:\n"
          + "  bind: 127.0.0.1:" + gossip[i] + "\n"
          + "  seeds: [" + (i == 0 ? "" : "127.0.0.1:" + gossip[0]) + "]\n"
          + "  expected_nodes: 2\n"
          + "  gossip_interval_ms: 200\n"
          + "  stale_after_ms: 2000\n";
      start(new MysqlProxy(db).user("tenant", "pw").cluster("ru: { w_latency: 0 }")
          .tail("resource_groups:\n"
              + "  default: { ru_per_sec: 1000000, burst: 1000000 }\n"
              + "  fleet: { ru_per_sec: 100, burst: 20, on_exhausted: reject }\n"
              + "tenants:\n"
              + "  - { match: { user: tenant }, group: fleet }\n"
              + fleet));
    }
    ProxyFixture a = proxies.get(0);
    ProxyFixture b = proxies.get(1);
    Eventually.assertWithin(Duration.ofSeconds(60), () -> {
      assertEquals(2, a.groupStatus("fleet").path("fleet_members").asInt());
      assertEquals(2, b.groupStatus("fleet").path("fleet_members").asInt());
    });
    AtomicInteger refused = new AtomicInteger();
    for (int i = 0; i < 4; i++) {
      pool.submit(() -> {
        try (Connection c = MysqlProxy.connect(url(a, "tenant")); Statement s = c.createStatement()) {
          while (!stop.get()) {
            try (ResultSet rs = s.executeQuery("SELECT REPEAT('x', 20000)")) {
              rs.next();
            } catch (SQLException e) {
              if (e.getErrorCode() == 1226) {
                refused.incrementAndGet();
              }
              Thread.sleep(5);
            }
          }
        }
        return null;
      });
    }
    Eventually.assertWithin(Duration.ofSeconds(60), () -> {
      double shareA = a.groupStatus("fleet").path("share_ru_per_sec").asDouble();
      double shareB = b.groupStatus("fleet").path("share_ru_per_sec").asDouble();
      assertTrue(shareA >= 80 && shareB <= 20, "A, the node with the load, holds most of the budget: A "
          + shareA + ", B " + shareB);
      assertEquals(100, shareA + shareB, 10, "the shares add up to the group's limit");
    });
    assertEquals("shared", a.groupStatus("fleet").path("share_mode").asText());
    assertTrue(refused.get() > 0, "A refuses beyond the fleet budget with ERR 1226");
  }

  private static String key(SQLException e) {
    return e.getErrorCode() + (String.valueOf(e.getMessage()).contains("reason=codel") ? " codel" : " other");
  }

  /** The server's error under the connector's "Initialization command fail". */
  private static SQLException rootCause(SQLException e) {
    SQLException deepest = e;
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof SQLException s && s.getErrorCode() > 0) {
        deepest = s;
      }
    }
    return deepest;
  }

  private static int count(Map<String, AtomicInteger> outcomes, String key) {
    AtomicInteger n = outcomes.get(key);
    return n == null ? 0 : n.get();
  }

  private static int otherErrors(Map<String, AtomicInteger> outcomes) {
    int n = 0;
    for (Map.Entry<String, AtomicInteger> e : outcomes.entrySet()) {
      if (!e.getKey().equals("ok") && !e.getKey().startsWith("1226")) {
        n += e.getValue().get();
      }
    }
    return n;
  }
}

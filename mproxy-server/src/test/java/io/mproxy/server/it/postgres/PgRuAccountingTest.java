package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.PromScrape;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RU accounting on real queries: a group running big {@code generate_series} scans is charged far
 * more per query than a group running point selects, and the charge of a scan grows with the
 * bytes it returns. Groups are chosen by user ({@code scan}, {@code point}, both logged in to the
 * backend as the cluster's {@code app}) through tenant rules; charges are read from
 * {@code mproxy_ru_total}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PgRuAccountingTest {

  private static final String BIG_GROUP = "{ ru_per_sec: 100000000, burst: 200000000, priority: normal, on_exhausted: reject }";

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app; CREATE TABLE kv (k int PRIMARY KEY, v text);"
        + " INSERT INTO kv SELECT i, 'value-' || i FROM generate_series(1, 1000) i;");
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withGroup("scan", BIG_GROUP)
        .withGroup("point", BIG_GROUP)
        .withUser("{ name: scan, password: scan-pw }")
        .withUser("{ name: point, password: point-pw }")
        .withTenant("{ match: { user: scan }, group: scan }")
        .withTenant("{ match: { user: point }, group: point }")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void scansAreChargedMoreThanPointSelectsAndInProportionToBytes() throws Exception {
    try (Connection point = PgClients.connect(proxy.port(), "point", "point-pw", Map.of());
        Connection scan = PgClients.connect(proxy.port(), "scan", "scan-pw", Map.of())) {
      // warm up: connection set-up and the first execution of each shape are not measured
      pointSelects(point, 5);
      scans(scan, 20_000, 1);

      Charge pointCharge = measure("point", 200, () -> pointSelects(point, 200));
      Charge scan100k = measure("scan", 5, () -> scans(scan, 100_000, 5));
      Charge scan400k = measure("scan", 5, () -> scans(scan, 400_000, 5));

      double bytes100k = dataRowBytes(100_000);
      double bytes400k = dataRowBytes(400_000);
      String report = "RU per query: point " + pointCharge + ", scan 100k rows " + scan100k + " ("
          + (long) bytes100k + " B of DataRows), scan 400k rows " + scan400k + " (" + (long) bytes400k + " B)";

      assertEquals(0.0, pointCharge.write(), "point SELECTs are charged as reads: " + report);
      assertEquals(0.0, scan100k.write() + scan400k.write(), "scans are charged as reads: " + report);
      assertTrue(pointCharge.perQuery() >= 1.0, "a read costs at least its 1 RU base: " + report);
      assertTrue(scan100k.perQuery() > 50 * pointCharge.perQuery(),
          "a 1.7 MB scan costs over 50x a point select: " + report);
      double ruRatio = scan400k.perQuery() / scan100k.perQuery();
      double bytesRatio = bytes400k / bytes100k;
      assertTrue(ruRatio > bytesRatio / 2 && ruRatio < bytesRatio * 2,
          "scan charges grow with bytes: RU ratio " + ruRatio + " vs bytes ratio " + bytesRatio + "; " + report);
    }
  }

  /** RU charged to a group per query over one measured stretch, read and write. */
  private record Charge(double perQuery, double read, double write) {
    @Override
    public String toString() {
      return String.format("%.2f (read %.1f, write %.1f in total)", perQuery, read, write);
    }
  }

  private interface Work {
    void run() throws SQLException;
  }

  private static Charge measure(String group, int queries, Work work) throws SQLException {
    PromScrape before = proxy.metrics();
    work.run();
    // every query has settled (is counted) before its charge is read
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertTrue(
        requests(proxy.metrics(), group) - requests(before, group) >= queries, "requests settled"));
    PromScrape after = proxy.metrics();
    double read = after.sum("mproxy_ru_total", "group", group, "kind", "read")
        - before.sum("mproxy_ru_total", "group", group, "kind", "read");
    double write = after.sum("mproxy_ru_total", "group", group, "kind", "write")
        - before.sum("mproxy_ru_total", "group", group, "kind", "write");
    return new Charge((read + write) / queries, read, write);
  }

  private static double requests(PromScrape scrape, String group) {
    return scrape.sum("mproxy_requests_total", "group", group);
  }

  private static void pointSelects(Connection c, int n) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT v FROM kv WHERE k = ?")) {
      for (int i = 0; i < n; i++) {
        int k = 1 + i % 1000;
        s.setInt(1, k);
        try (ResultSet rs = s.executeQuery()) {
          assertTrue(rs.next());
          assertEquals("value-" + k, rs.getString(1));
        }
      }
    }
  }

  private static void scans(Connection c, int rows, int n) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT i FROM generate_series(1, ?) i")) {
      for (int q = 0; q < n; q++) {
        s.setInt(1, rows);
        int count = 0;
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            count++;
          }
        }
        assertEquals(rows, count);
      }
    }
  }

  /** Bytes of the DataRow messages of {@code SELECT i FROM generate_series(1, rows)} in text format. */
  private static double dataRowBytes(int rows) {
    // type 1 + length 4 + column count 2 + value length 4 + the digits
    return Double.parseDouble(pg.psql("SELECT sum(11 + length(i::text)) FROM generate_series(1, " + rows + ") i"));
  }
}

package io.mproxy.server.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.ManualClock;
import java.util.List;
import org.junit.jupiter.api.Test;

class UsageMeterTest {

  private final ManualClock clock = new ManualClock(0, 1_700_000_000_000L);
  private final UsageMeter meter = new UsageMeter(clock, 60_000, 10, 100);

  private static TenantIdentity user(String name) {
    return new TenantIdentity("pg", name, "shop", null);
  }

  @Test
  void attributesRuToTenantGroupAndFingerprint() {
    meter.record(user("alice"), "default", "SELECT ?", 3);
    meter.record(user("alice"), "default", "SELECT ?", 2);
    meter.record(user("bob"), "batch", "UPDATE t SET x = ?", 10);
    UsageMeter.Report r = meter.report(60_000, 10);
    assertEquals(15, r.totalRu(), 1e-9);
    assertEquals(3, r.totalRequests());
    assertEquals(List.of(new UsageMeter.Row("bob@shop on pg", 10, 1), new UsageMeter.Row("alice@shop on pg", 5, 2)),
        r.rows().get(UsageMeter.Dimension.TENANT));
    assertEquals(List.of(new UsageMeter.Row("batch", 10, 1), new UsageMeter.Row("default", 5, 2)),
        r.rows().get(UsageMeter.Dimension.GROUP));
    assertEquals("UPDATE t SET x = ?", r.rows().get(UsageMeter.Dimension.FINGERPRINT).get(0).name());
  }

  @Test
  void theWindowCoversOnlyRecentBuckets() {
    meter.record(user("alice"), "default", "SELECT ?", 7);
    clock.advanceMillis(3 * 60_000);
    meter.record(user("alice"), "default", "SELECT ?", 1);
    assertEquals(1, meter.report(60_000, 10).totalRu(), 1e-9);
    assertEquals(8, meter.report(4 * 60_000, 10).totalRu(), 1e-9);
    clock.advanceMillis(20 * 60_000); // the ring wrapped: old buckets are gone
    assertEquals(0, meter.report(meter.maxWindowMillis(), 10).totalRu(), 1e-9);
  }

  @Test
  void topNPlusOtherKeepsTotals() {
    for (int i = 0; i < 20; i++) {
      meter.record(user("u" + i), "default", "SELECT ?", i + 1);
    }
    List<UsageMeter.Row> tenants = meter.report(60_000, 3).rows().get(UsageMeter.Dimension.TENANT);
    assertEquals(4, tenants.size());
    assertEquals("u19@shop on pg", tenants.get(0).name());
    assertEquals(UsageMeter.OTHER, tenants.get(3).name());
    assertEquals(210, tenants.stream().mapToDouble(UsageMeter.Row::ru).sum(), 1e-9);
    assertEquals(17, tenants.get(3).requests());
  }

  @Test
  void aMillionDistinctNamesStayBounded() {
    for (int i = 0; i < 1_000_000; i++) {
      meter.record(user("tenant-" + i), "default", "SELECT " + i, 1);
    }
    UsageMeter.Report r = meter.report(60_000, 1000);
    List<UsageMeter.Row> tenants = r.rows().get(UsageMeter.Dimension.TENANT);
    // 100 names kept per bucket, everything else under "other": nothing lost, nothing unbounded
    assertEquals(101, tenants.size());
    assertEquals(UsageMeter.OTHER, tenants.get(tenants.size() - 1).name());
    assertEquals(1_000_000, tenants.stream().mapToLong(UsageMeter.Row::requests).sum());
    assertEquals(1_000_000, r.totalRu(), 1e-6);
    assertTrue(r.rows().get(UsageMeter.Dimension.FINGERPRINT).size() <= 101);
  }

  @Test
  void csvQuotesAndDefusesFormulas() {
    meter.record(user("a,b"), "default", "=HYPERLINK(\"x\")", 1);
    String csv = UsageDocument.csv(meter.report(60_000, 10));
    assertTrue(csv.startsWith(UsageDocument.CSV_HEADER + "\n"), csv);
    assertTrue(csv.contains(",tenant,\"a,b@shop on pg\",1.0,1\n"), csv);
    assertTrue(csv.contains(",fingerprint,\"'=HYPERLINK(\"\"x\"\")\",1.0,1\n"), csv);
  }
}

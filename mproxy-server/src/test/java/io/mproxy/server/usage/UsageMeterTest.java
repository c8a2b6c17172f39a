package io.mproxy.server.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
  void sessionsOfOneTenantInterleavedShareTheCachedCellsAndOthersStillGetTheirOwn() {
    // fifty sessions of one tenant, each with its own identity object, served in turns as one
    // event loop serves them: after the first request no map look-up is needed
    TenantIdentity[] sessions = new TenantIdentity[50];
    for (int i = 0; i < sessions.length; i++) {
      sessions[i] = user("alice");
    }
    for (int round = 0; round < 20; round++) {
      for (TenantIdentity s : sessions) {
        meter.record(s, "default", "GET key:?", 1);
      }
    }
    assertEquals(3, meter.cellLookUps(), "one look-up per dimension for 1,000 requests of one tenant");
    meter.record(user("bob"), "default", "GET key:?", 5);
    meter.record(sessions[7], "default", "GET key:?", 2);
    assertEquals(5, meter.cellLookUps(), "a different tenant misses, and so does the one after it");
    UsageMeter.Report r = meter.report(60_000, 10);
    assertEquals(List.of(new UsageMeter.Row("alice@shop on pg", 1_002, 1_001), new UsageMeter.Row("bob@shop on pg", 5, 1)),
        r.rows().get(UsageMeter.Dimension.TENANT));
  }

  @Test
  void withTheEndTimeTheWallClockIsReadAboutOncePerSecondPerThread() {
    CountingClock counting = new CountingClock(clock);
    UsageMeter m = new UsageMeter(counting, 60_000, 10, 100);
    long start = clock.nanoTime();
    for (int i = 0; i < 10_000; i++) {
      m.record(user("alice"), "default", "SELECT ?", 1, start + i * 10_000L); // 10 µs apart
    }
    assertEquals(1, counting.wallReadings, "10,000 requests within 100 ms read the wall clock once");
    clock.advanceMillis(2_500);
    for (int i = 0; i < 3; i++) {
      m.record(user("alice"), "default", "SELECT ?", 1, clock.nanoTime() + i);
    }
    assertEquals(2, counting.wallReadings, "past the recheck interval it reads again, once");
    assertEquals(10_003, m.report(60_000, 10).totalRequests());
  }

  @Test
  void withTheEndTimeABucketBoundaryStartsTheNextBucket() {
    CountingClock counting = new CountingClock(clock);
    UsageMeter m = new UsageMeter(counting, 60_000, 10, 100);
    // 100 ms before a bucket boundary
    long toBoundary = 60_000 - Math.floorMod(clock.wallMillis(), 60_000L) - 100;
    clock.advanceMillis(toBoundary);
    m.record(user("alice"), "default", "SELECT ?", 7, clock.nanoTime());
    clock.advanceMillis(150);
    m.record(user("alice"), "default", "SELECT ?", 1, clock.nanoTime());
    assertEquals(2, counting.wallReadings);
    assertEquals(1, m.report(1, 10).totalRu(), 1e-9, "the later request is in the new bucket alone");
    assertEquals(8, m.report(120_000, 10).totalRu(), 1e-9);
  }

  @Test
  void anEndTimeBeforeTheCachedSpanReadsTheWallClock() {
    CountingClock counting = new CountingClock(clock);
    UsageMeter m = new UsageMeter(counting, 60_000, 10, 100);
    clock.advanceMillis(10);
    long now = clock.nanoTime();
    m.record(user("alice"), "default", "SELECT ?", 1, now);
    m.record(user("alice"), "default", "SELECT ?", 1, now - 5_000_000L);
    assertEquals(2, counting.wallReadings);
    assertEquals(2, m.report(60_000, 10).totalRequests());
  }

  @Test
  void runsOfTheSameKeysAreAttributedPerBucketAndEqualNamesShareARow() {
    TenantIdentity alice = user("alice");
    for (int i = 0; i < 3; i++) {
      meter.record(alice, "default", "SELECT ?", 1);
    }
    meter.record(alice, new String("default"), new String("SELECT ?"), 1); // equal, not identical
    meter.record(null, null, null, 5);
    meter.record(alice, "batch", "SELECT ?", 2);
    clock.advanceMillis(60_000);
    meter.record(alice, "default", "SELECT ?", 10); // same keys, next bucket
    UsageMeter.Report now = meter.report(1, 10);
    assertEquals(10, now.totalRu(), 1e-9);
    UsageMeter.Report both = meter.report(120_000, 10);
    assertEquals(List.of(new UsageMeter.Row("default", 14, 5), new UsageMeter.Row("-", 5, 1),
        new UsageMeter.Row("batch", 2, 1)), both.rows().get(UsageMeter.Dimension.GROUP));
    assertEquals(List.of(new UsageMeter.Row("alice@shop on pg", 16, 6), new UsageMeter.Row("-", 5, 1)),
        both.rows().get(UsageMeter.Dimension.TENANT));
    assertEquals(List.of(new UsageMeter.Row("SELECT ?", 16, 6), new UsageMeter.Row("-", 5, 1)),
        both.rows().get(UsageMeter.Dimension.FINGERPRINT));
  }

  /** Counts wall-clock readings of a manual clock. */
  private static final class CountingClock implements io.mproxy.core.time.Clock {
    private final ManualClock inner;
    int wallReadings;

    CountingClock(ManualClock inner) {
      this.inner = inner;
    }

    @Override
    public long nanoTime() {
      return inner.nanoTime();
    }

    @Override
    public long wallMillis() {
      wallReadings++;
      return inner.wallMillis();
    }
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

  /** Each thread records into its own cells; a report must see every record exactly once. */
  @Test
  void recordsFromSeveralThreadsArePublishedExactlyOnce() throws Exception {
    int threads = 4;
    int perThread = 20_000;
    runThreads(threads, t -> {
      for (int i = 0; i < perThread; i++) {
        meter.record(user("u" + (i % 7)), t % 2 == 0 ? "even" : "odd", "SELECT " + (i % 3), 1 + (i % 2));
      }
    });
    double ru = threads * (perThread / 2 * 1.0 + perThread / 2 * 2.0);
    for (int round = 0; round < 3; round++) { // reading again neither loses nor adds anything
      UsageMeter.Report r = meter.report(60_000, 100);
      assertEquals(ru, r.totalRu(), 1e-6);
      assertEquals(threads * perThread, r.totalRequests());
      assertEquals(threads * perThread, sumRequests(r, UsageMeter.Dimension.TENANT));
      assertEquals(threads * perThread, sumRequests(r, UsageMeter.Dimension.FINGERPRINT));
      assertEquals(ru / 2, rowRu(r, UsageMeter.Dimension.GROUP, "even"), 1e-6);
      assertEquals(7, r.rows().get(UsageMeter.Dimension.TENANT).size());
    }
  }

  /** Publishing while threads record (the daemon's timer, a concurrent /api/usage) loses and doubles nothing. */
  @Test
  void publishingWhileThreadsRecordLosesAndDoublesNothing() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread publisher = new Thread(() -> {
      while (!stop.get()) {
        meter.publish();
        meter.report(60_000, 5);
      }
    });
    publisher.start();
    try {
      runThreads(3, t -> {
        for (int i = 0; i < 50_000; i++) {
          meter.record(user("t" + t), "default", "GET ?", 0.5);
        }
      });
    } finally {
      stop.set(true);
      publisher.join(TimeUnit.SECONDS.toMillis(30));
    }
    UsageMeter.Report r = meter.report(60_000, 10);
    assertEquals(150_000, r.totalRequests());
    assertEquals(75_000, r.totalRu(), 1e-6);
    assertEquals(50_000, r.rows().get(UsageMeter.Dimension.TENANT).get(0).requests());
  }

  /** A thread that recorded and ended is still published, and a later thread adds to it. */
  @Test
  void aThreadThatStopsRecordingIsStillPublished() throws Exception {
    runThreads(1, t -> meter.record(user("gone"), "default", "SELECT ?", 4));
    runThreads(1, t -> meter.record(user("next"), "default", "SELECT ?", 1));
    UsageMeter.Report r = meter.report(60_000, 10);
    assertEquals(5, r.totalRu(), 1e-9);
    assertEquals(4, rowRu(r, UsageMeter.Dimension.TENANT, "gone@shop on pg"), 1e-9);
    assertEquals(1, rowRu(r, UsageMeter.Dimension.TENANT, "next@shop on pg"), 1e-9);
  }

  /** RU goes to the bucket of the minute it was recorded in, however late it is published. */
  @Test
  void lateRecordsGoToTheMinuteTheyWereRecordedIn() {
    meter.record(user("alice"), "default", "SELECT ?", 7);
    clock.advanceMillis(60_000);
    meter.record(user("alice"), "default", "SELECT ?", 2);
    clock.advanceMillis(60_000);
    meter.record(user("alice"), "default", "SELECT ?", 1);
    // nothing published until now: three periods of one thread fold into three buckets
    assertEquals(1, meter.report(60_000, 10).totalRu(), 1e-9);
    assertEquals(3, meter.report(2 * 60_000, 10).totalRu(), 1e-9);
    assertEquals(10, meter.report(3 * 60_000, 10).totalRu(), 1e-9);
  }

  /** Each thread keeps at most maxKeys names per dimension; the shared bucket too. */
  @Test
  void namesStayBoundedAcrossThreads() throws Exception {
    UsageMeter small = new UsageMeter(clock, 60_000, 10, 5);
    runThreads(3, t -> {
      for (int i = 0; i < 100; i++) {
        small.record(user("t" + t + "-" + i), "default", "SELECT " + i, 1);
      }
    });
    UsageMeter.Report r = small.report(60_000, 1000);
    List<UsageMeter.Row> tenants = r.rows().get(UsageMeter.Dimension.TENANT);
    assertEquals(6, tenants.size());
    assertEquals(UsageMeter.OTHER, tenants.get(5).name());
    assertEquals(300, sumRequests(r, UsageMeter.Dimension.TENANT));
    assertEquals(300, r.totalRequests());
  }

  private interface Work {
    void run(int thread) throws Exception;
  }

  private static void runThreads(int n, Work work) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < n; i++) {
      int t = i;
      Thread th = new Thread(() -> {
        try {
          go.await();
          work.run(t);
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads.add(th);
      th.start();
    }
    go.countDown();
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(60));
      assertTrue(!th.isAlive(), "worker thread did not finish");
    }
    assertTrue(failures.isEmpty(), failures.toString());
  }

  private static long sumRequests(UsageMeter.Report r, UsageMeter.Dimension d) {
    return r.rows().get(d).stream().mapToLong(UsageMeter.Row::requests).sum();
  }

  private static double rowRu(UsageMeter.Report r, UsageMeter.Dimension d, String name) {
    return r.rows().get(d).stream().filter(x -> x.name().equals(name)).mapToDouble(UsageMeter.Row::ru)
        .findFirst().orElse(-1);
  }
}

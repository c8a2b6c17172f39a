package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.time.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The group's per-thread totals add up exactly across threads, including threads that ended. */
class ResourceGroupTalliesTest {

  @Test
  void totalsFromSeveralThreadsAreExact() throws Exception {
    ManualClock clock = new ManualClock();
    ResourceGroup g = new ResourceGroup(
        new ResourceGroupConfig("g", 1e12, 1e12, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e12), clock);
    int threads = 4;
    int perThread = 25_000;
    onThreads(threads, () -> {
      for (int i = 0; i < perThread; i++) {
        g.countAdmitted();
        g.countAsked(0.5);
        g.countCharged(0.25);
        g.charge(0.25, 0);
        g.recordRead(2.0);
        if (i % 5 == 0) {
          g.countRejected();
          g.countWouldReject();
          g.countWouldShed();
        }
      }
    });
    long n = (long) threads * perThread;
    assertEquals(n, g.admittedTotal());
    assertEquals(n / 5, g.rejectedTotal());
    assertEquals(n / 5, g.wouldRejectTotal());
    assertEquals(n / 5, g.wouldShedTotal());
    assertEquals(n * 0.5, g.ruAskedTotal(), 0.0);
    assertEquals(n * 0.5, g.ruChargedTotal(), 0.0);
    assertEquals(2.0, g.meanReadRu(), 0.0);
    g.countAdmitted(); // and this thread adds to the dead threads' totals
    assertEquals(n + 1, g.admittedTotal());
  }

  @Test
  void grantedAndSettledInOneLookUpAddUpExactlyAcrossThreads() throws Exception {
    ManualClock clock = new ManualClock();
    // a leased bucket: each thread spends and refunds its own credit
    ResourceGroup g = new ResourceGroup(
        new ResourceGroupConfig("g", 1e6, 1e6, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e6), clock);
    int threads = 4;
    int perThread = 25_000;
    onThreads(threads, () -> {
      int slot = io.mproxy.core.telemetry.ThreadSlots.current();
      for (int i = 0; i < perThread; i++) {
        assertEquals(TokenBucket.GRANTED, g.bucket().acquire(2.0, 0, 0, slot));
        g.countGranted(2.0, i % 2 == 0, slot);
        g.settle(-1.0, i % 4 == 0, 3.0, 0, slot);
      }
    });
    long n = (long) threads * perThread;
    assertEquals(n / 2, g.admittedTotal(), "admitted only when the caller says so");
    assertEquals(n * 2.0, g.ruAskedTotal(), 0.0);
    assertEquals(n * 1.0, g.ruChargedTotal(), 0.0, "2 granted, 1 refunded");
    assertEquals(3.0, g.meanReadRu(), 0.0);
    assertEquals(1e6 - n, g.bucket().tokens(), 1e-3, "what the bucket holds, credit included");
  }

  /** Runs {@code body} on {@code threads} new threads at once and waits; a failure on any fails the test. */
  private static void onThreads(int threads, Runnable body) throws InterruptedException {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          body.run();
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join(60_000);
      assertFalse(w.isAlive(), "worker did not finish");
    }
    if (failure.get() != null) {
      throw new AssertionError("a worker failed", failure.get());
    }
  }
}

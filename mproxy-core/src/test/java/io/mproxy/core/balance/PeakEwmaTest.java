package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PeakEwmaTest {

  private static final long TAU = 1_000_000_000L;

  private final PeakEwma ewma = new PeakEwma(TAU);

  @Test
  void isZeroBeforeTheFirstSampleWhichItTakesAsIs() {
    assertEquals(0.0, ewma.valueNanos());
    ewma.observe(5_000, 0);
    assertEquals(5_000.0, ewma.valueNanos());
  }

  @Test
  void jumpsToAHigherSampleAtOnce() {
    ewma.observe(1_000, 0);
    ewma.observe(50_000, 1);
    assertEquals(50_000.0, ewma.valueNanos(), "no averaging upwards: a slowdown is seen immediately");
  }

  @Test
  void decaysTowardsALowerSampleWithTheTimeConstant() {
    ewma.observe(10_000, 0);
    ewma.observe(0, TAU);
    assertEquals(10_000 * Math.exp(-1), ewma.valueNanos(), 1e-6);
    ewma.observe(0, 2 * TAU);
    assertEquals(10_000 * Math.exp(-2), ewma.valueNanos(), 1e-6);
  }

  @Test
  void aLowerSampleWithNoTimeElapsedChangesNothing() {
    ewma.observe(10_000, 100);
    ewma.observe(1, 100);
    assertEquals(10_000.0, ewma.valueNanos(), 1e-9);
  }

  @Test
  void forgivesSlowlyButSurely() {
    ewma.observe(100_000, 0);
    double previous = ewma.valueNanos();
    for (int i = 1; i <= 100; i++) {
      ewma.observe(1_000, i * (TAU / 10));
      assertTrue(ewma.valueNanos() < previous, "sample " + i);
      assertTrue(ewma.valueNanos() >= 1_000, "never below the samples");
      previous = ewma.valueNanos();
    }
    // 10 time constants: within e^-10 of the gap
    assertEquals(1_000.0, ewma.valueNanos(), 99_000 * Math.exp(-10) + 1e-6);
    double afterOneTau = 1_000 + 99_000 * Math.exp(-1);
    PeakEwma other = new PeakEwma(TAU);
    other.observe(100_000, 0);
    for (int i = 1; i <= 10; i++) {
      other.observe(1_000, i * (TAU / 10));
    }
    assertEquals(afterOneTau, other.valueNanos(), 1e-6, "ten small steps decay like one step of the same length");
  }

  @Test
  void theCheapDecayMatchesExpEverywhere() {
    for (double x = 0; x < 20; x = x == 0 ? 1e-12 : x * 1.07) {
      double exact = Math.exp(-x);
      assertEquals(exact, PeakEwma.decay(x), 1e-13 + exact * 1e-13, "x=" + x);
    }
    // both sides of the switch to Math.exp
    double below = Math.nextDown(PeakEwma.SERIES_LIMIT);
    assertEquals(Math.exp(-below), PeakEwma.decay(below), 1e-13);
    assertEquals(Math.exp(-PeakEwma.SERIES_LIMIT), PeakEwma.decay(PeakEwma.SERIES_LIMIT), 0.0);
  }

  @Test
  void microsecondStepsDecayLikeOneLongStep() {
    // the regime of a busy backend: every step takes the series branch
    ewma.observe(100_000, 0);
    long step = 10_000; // 10 µs: elapsed/tau = 1e-5
    long steps = TAU / step;
    for (long i = 1; i <= steps; i++) {
      ewma.observe(1_000, i * step);
    }
    assertEquals(1_000 + 99_000 * Math.exp(-1), ewma.valueNanos(), 1e-3);
  }

  /**
   * Two threads feed one average without a lock: no peak may be lost (the value ends at least at
   * the highest sample given with no time elapsed after it), and the decay time claimed by all
   * observers together is the time that passed, whatever the interleaving.
   */
  @Test
  void concurrentObserversNeverLoseAPeakNorCountTimeTwice() throws Exception {
    PeakEwma shared = new PeakEwma(TAU);
    AtomicLong clock = new AtomicLong();
    int perThread = 200_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread th = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < perThread; i++) {
            shared.observe(1_000, clock.addAndGet(100));
          }
        } catch (Throwable e) {
          synchronized (failures) {
            failures.add(e);
          }
        }
      });
      threads.add(th);
      th.start();
    }
    shared.observe(1_000_000, 0);
    go.countDown();
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(60));
      assertTrue(!th.isAlive(), "observer still running");
    }
    assertTrue(failures.isEmpty(), failures.toString());
    // 400k steps of 100 ns = 40 ms of decay from 1 ms towards 1 µs, as one thread would compute
    double expected = 1_000 + 999_000 * Math.exp(-(2.0 * perThread * 100) / TAU);
    assertEquals(expected, shared.valueNanos(), expected * 1e-6,
        "every nanosecond of decay is claimed once, no sample is dropped");

    long now = clock.get();
    Thread peak = new Thread(() -> shared.observe(5_000_000, now));
    peak.start();
    for (int i = 0; i < 1_000; i++) {
      shared.observe(10, now);
    }
    peak.join(TimeUnit.SECONDS.toMillis(60));
    assertEquals(5_000_000.0, shared.valueNanos(), 1e-9, "a peak observed concurrently is kept");
  }
}

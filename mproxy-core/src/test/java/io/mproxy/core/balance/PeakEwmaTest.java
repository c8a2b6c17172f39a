package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
   * Two threads feed one average without a lock, as two event loops do: no decay time may be
   * counted twice or lost (the result is what one thread computes for the same samples, to
   * within rounding), whatever the interleaving.
   */
  @Test
  void concurrentObserversCountEveryNanosecondOfDecayOnce() throws Exception {
    PeakEwma shared = new PeakEwma(TAU);
    AtomicLong clock = new AtomicLong();
    int perThread = 1_000_000;
    shared.observe(1_000_000, 0);
    runTogether(() -> {
      for (int i = 0; i < perThread; i++) {
        shared.observe(1_000, clock.addAndGet(100));
      }
    }, () -> {
      for (int i = 0; i < perThread; i++) {
        shared.observe(1_000, clock.addAndGet(100));
      }
    });
    // 2M steps of 100 ns = 200 ms of decay from 1 ms towards 1 µs; one racing step changes the
    // result by about 1e-7 of itself, rounding by less than 1e-10
    double expected = 1_000 + 999_000 * Math.exp(-(2.0 * perThread * 100) / TAU);
    assertEquals(expected, shared.valueNanos(), expected * 1e-9);
  }

  /**
   * One thread raises the peak step by step while another reports fast samples at the same
   * instant (no decay): the value may never fall below a peak already observed. A plain write
   * instead of the compare-and-set would put back the value the fast sample had read.
   */
  @Test
  void aConcurrentFastSampleNeverErasesAPeak() throws Exception {
    PeakEwma shared = new PeakEwma(TAU);
    shared.observe(1, 0);
    int peaks = 2_000_000;
    AtomicLong published = new AtomicLong();
    AtomicBoolean over = new AtomicBoolean();
    AtomicReference<String> broken = new AtomicReference<>();
    runTogether(() -> {
      for (long p = 2; p < peaks && broken.get() == null; p++) {
        shared.observe(p, 0);
        if (shared.valueNanos() < p) {
          broken.compareAndSet(null, "peak " + p + " gone right after it was observed: " + shared.valueNanos());
        }
        published.set(p);
      }
      over.set(true);
    }, () -> {
      while (!over.get() && broken.get() == null) {
        long p = published.get();
        shared.observe(1, 0);
        if (shared.valueNanos() < p) {
          broken.compareAndSet(null, "published peak " + p + " erased: " + shared.valueNanos());
        }
      }
    });
    assertNull(broken.get(), broken.get());
    assertEquals(peaks - 1.0, shared.valueNanos(), 0.0);
  }

  private static void runTogether(Runnable a, Runnable b) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Throwable> failures = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (Runnable r : List.of(a, b)) {
      Thread th = new Thread(() -> {
        try {
          go.await();
          r.run();
        } catch (Throwable e) {
          synchronized (failures) {
            failures.add(e);
          }
        }
      });
      threads.add(th);
      th.start();
    }
    go.countDown();
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(120));
      assertTrue(!th.isAlive(), "observer still running");
    }
    assertTrue(failures.isEmpty(), failures.toString());
  }
}

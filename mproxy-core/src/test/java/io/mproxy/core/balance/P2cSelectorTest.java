package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig.Score;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.RandomSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class P2cSelectorTest {

  private static final long SEC = 1_000_000_000L;

  private final ManualClock clock = new ManualClock();
  private final RandomSource random = new SeededRandom(42);

  @Test
  void noBackendsGivesNull() {
    assertNull(new P2cSelector(Score.LEAST_INFLIGHT, random).select(List.of()));
  }

  @Test
  void neverPicksAnUnhealthyBackendWhileAHealthyOneExists() {
    Backend up = backend(1);
    Backend down1 = backend(2);
    Backend down2 = backend(3);
    loaded(up, 50); // the healthy one is by far the busiest
    down1.markDown("x", SEC, SEC);
    down2.markDown("x", SEC, SEC);
    clock.advanceNanos(SEC); // their back-off has elapsed: tryable, but still not healthy
    assertTrue(down1.tryable() && down2.tryable());
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    for (int i = 0; i < 1_000; i++) {
      assertSame(up, p2c.select(List.of(down1, up, down2)));
    }
  }

  @Test
  void withTwoBackendsAlwaysPicksTheLessLoaded() {
    Backend busy = backend(1);
    Backend idle = backend(2);
    loaded(busy, 3);
    loaded(idle, 1);
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    for (int i = 0; i < 500; i++) {
      assertSame(idle, p2c.select(List.of(busy, idle)));
      assertSame(idle, p2c.select(List.of(idle, busy)));
    }
  }

  @Test
  void theTwoCandidatesAreDistinctEvenWhenTheRandomSourceRepeatsItself() {
    Backend busy = backend(1);
    Backend idle = backend(2);
    loaded(busy, 1);
    RandomSource alwaysZero = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }

      @Override
      public double nextDouble() {
        return 0;
      }
    };
    assertSame(idle, new P2cSelector(Score.LEAST_INFLIGHT, alwaysZero).select(List.of(busy, idle)));
  }

  @Test
  void overManyPicksTheLeastLoadedGetsTheMost() {
    Backend light = backend(1);
    Backend medium = backend(2);
    Backend heavy = backend(3);
    loaded(medium, 5);
    loaded(heavy, 10);
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    Map<Backend, Integer> picks = new HashMap<>();
    int n = 3_000;
    for (int i = 0; i < n; i++) {
      picks.merge(p2c.select(List.of(heavy, light, medium)), 1, Integer::sum);
    }
    int l = picks.getOrDefault(light, 0);
    int m = picks.getOrDefault(medium, 0);
    int h = picks.getOrDefault(heavy, 0);
    assertEquals(0, h, "the busiest loses every pair it is drawn in");
    // light is in 2 of the 3 possible pairs: expect 2/3 of picks
    assertTrue(l > m, "light=" + l + " medium=" + m);
    assertEquals(2.0 / 3, (double) l / n, 0.05, "light=" + l);
    assertEquals(1.0 / 3, (double) m / n, 0.05, "medium=" + m);
  }

  @Test
  void everyHealthyBackendGetsSomeTrafficWhenLoadsAreEqual() {
    Backend a = backend(1);
    Backend b = backend(2);
    Backend c = backend(3);
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    Map<Backend, Integer> picks = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      picks.merge(p2c.select(List.of(a, b, c)), 1, Integer::sum);
    }
    assertEquals(3, picks.size());
    picks.values().forEach(v -> assertTrue(v > 300, picks.toString()));
  }

  @Test
  void peakEwmaScorePrefersTheFasterBackend() {
    Backend slow = backend(1);
    Backend fast = backend(2);
    slow.started();
    slow.finished(50_000_000L, 1);
    fast.started();
    fast.finished(1_000_000L, 1);
    P2cSelector p2c = new P2cSelector(Score.PEAK_EWMA, random);
    for (int i = 0; i < 100; i++) {
      assertSame(fast, p2c.select(List.of(slow, fast)));
    }
  }

  /**
   * The balancer's latency signal over time, as event loops feed it: a backend that turns slow is
   * avoided from its first slow answer, and is forgiven over the time constant once it is fast
   * again. Both event loops of a daemon report to the same backends at the same time.
   */
  @Test
  void peakEwmaAvoidsABackendThatSlowsDownAndForgivesItWhenItRecovers() throws Exception {
    Backend a = backend(1);
    Backend b = backend(2);
    long ms = 1_000_000L;
    long[] now = {0};
    Runnable bothFast = () -> {
      for (int i = 0; i < 100; i++) {
        now[0] += ms;
        a.started();
        a.finished(ms, 1, false, now[0]);
        b.started();
        b.finished(2 * ms, 1, false, now[0]);
      }
    };
    bothFast.run();
    P2cSelector p2c = new P2cSelector(Score.PEAK_EWMA, random);
    assertSame(a, p2c.select(List.of(a, b)), "a answers in 1 ms, b in 2 ms");

    a.started();
    a.finished(40 * ms, 1, false, now[0]);
    assertEquals(40.0 * ms, a.latencyEwmaNanos(), 1e-6, "a peak counts at once");
    for (int i = 0; i < 100; i++) {
      assertSame(b, p2c.select(List.of(a, b)));
    }

    // two "event loops" report a's 1 ms answers for 20 s (two time constants)
    long start = now[0];
    Thread[] loops = new Thread[2];
    for (int t = 0; t < loops.length; t++) {
      int offset = t;
      loops[t] = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          a.started();
          a.finished(ms, 1, false, start + (2L * i + offset) * ms);
        }
      });
      loops[t].start();
    }
    for (Thread t : loops) {
      t.join(60_000);
      assertTrue(!t.isAlive());
    }
    double expected = ms + 39.0 * ms * Math.exp(-2);
    assertEquals(expected, a.latencyEwmaNanos(), expected * 0.01, "decays as e^-t/tau towards 1 ms");
    assertEquals(0, a.inflight());
    assertEquals(100 + 1 + 20_000, a.completed());
    assertSame(b, p2c.select(List.of(a, b)), "6.3 ms is still worse than 2 ms");
    now[0] = start + 20_000 * ms;
    for (int i = 0; i < 100_000; i++) {
      now[0] += ms;
      a.started();
      a.finished(ms, 1, false, now[0]);
    }
    assertEquals(ms, a.latencyEwmaNanos(), 0.01 * ms, "ten time constants on, the peak is forgotten");
    for (int i = 0; i < 100; i++) {
      assertSame(a, p2c.select(List.of(a, b)), "and a is preferred again");
    }
  }

  @Test
  void allDownPicksOnlyAmongThoseWhoseBackOffHasElapsed() {
    Backend a = backend(1);
    Backend b = backend(2);
    Backend c = backend(3);
    a.markDown("x", SEC, SEC);
    b.markDown("x", 3 * SEC, 3 * SEC);
    c.markDown("x", 3 * SEC, 3 * SEC);
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    assertNull(p2c.select(List.of(a, b, c)), "nobody may be tried yet");
    clock.advanceNanos(SEC);
    for (int i = 0; i < 200; i++) {
      assertSame(a, p2c.select(List.of(a, b, c)));
    }
    clock.advanceNanos(2 * SEC);
    Map<Backend, Integer> picks = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      picks.merge(p2c.select(List.of(a, b, c)), 1, Integer::sum);
    }
    assertEquals(3, picks.size(), "all three may be tried now: " + picks);
  }

  @Test
  void aSingleBackendIsPickedWhenTryableElseNull() {
    Backend only = backend(1);
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, random);
    assertSame(only, p2c.select(List.of(only)));
    only.markDown("x", SEC, SEC);
    assertNull(p2c.select(List.of(only)));
    clock.advanceNanos(SEC);
    assertSame(only, p2c.select(List.of(only)));
  }

  @Test
  void sameSeedSamePicks() {
    List<Backend> all = List.of(backend(1), backend(2), backend(3), backend(4));
    P2cSelector one = new P2cSelector(Score.LEAST_INFLIGHT, new SeededRandom(7));
    P2cSelector two = new P2cSelector(Score.LEAST_INFLIGHT, new SeededRandom(7));
    boolean varied = false;
    Backend first = one.select(all);
    two.select(all);
    for (int i = 0; i < 100; i++) {
      Backend x = one.select(all);
      assertSame(x, two.select(all));
      varied |= x != first;
    }
    assertTrue(varied);
  }

  private Backend backend(int n) {
    return new Backend(new BackendConfig(new HostPort("10.0.0." + n, 6379), BackendConfig.Role.PRIMARY), clock);
  }

  private static void loaded(Backend b, int inflight) {
    for (int i = 0; i < inflight; i++) {
      b.started();
    }
  }

  /** Deterministic randomness for tests: the same seed draws the same sequence. */
  private static final class SeededRandom implements RandomSource {
    private final SplittableRandom r;

    SeededRandom(long seed) {
      this.r = new SplittableRandom(seed);
    }

    @Override
    public int nextInt(int bound) {
      return r.nextInt(bound);
    }

    @Override
    public double nextDouble() {
      return r.nextDouble();
    }
  }
}

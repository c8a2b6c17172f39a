package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.balance.CircuitBreaker.State;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig.Score;
import io.mproxy.core.config.CircuitConfig;
import io.mproxy.core.config.CircuitConfig.Mode;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.time.ManualClock;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  private static final long MS = 1_000_000L;

  private final ManualClock clock = new ManualClock();

  private static CircuitConfig config(Mode mode) {
    // error_rate 0.5, min_requests 10, latency 100 ms, window 1 s, open 500 ms, 2 probes
    return new CircuitConfig(0.5, 10, 100, 1_000, 500, 2, mode);
  }

  @Test
  void staysClosedBelowMinRequestsEvenWhenAllFail() {
    CircuitBreaker cb = new CircuitBreaker(config(Mode.ENFORCE), clock);
    for (int i = 0; i < 9; i++) {
      cb.onResult(true, MS);
    }
    assertEquals(State.CLOSED, cb.state());
    cb.onResult(true, MS);
    assertEquals(State.OPEN, cb.state());
    assertFalse(cb.allows());
    assertFalse(cb.tryRequest());
  }

  @Test
  void opensAtTheErrorRateAndNotBelowIt() {
    CircuitBreaker cb = new CircuitBreaker(config(Mode.ENFORCE), clock);
    for (int i = 0; i < 12; i++) {
      cb.onResult(false, MS);
    }
    for (int i = 0; i < 11; i++) {
      cb.onResult(true, MS);
    }
    assertEquals(State.CLOSED, cb.state(), "11 of 23 failed: below 0.5");
    cb.onResult(true, MS);
    assertEquals(State.OPEN, cb.state(), "12 of 24 failed: at 0.5");
  }

  @Test
  void slowRequestsCountAsFailures() {
    CircuitBreaker cb = new CircuitBreaker(config(Mode.ENFORCE), clock);
    for (int i = 0; i < 10; i++) {
      cb.onResult(false, 101 * MS);
    }
    assertEquals(State.OPEN, cb.state());
  }

  @Test
  void failuresOutsideTheWindowAreForgotten() {
    CircuitBreaker cb = new CircuitBreaker(config(Mode.ENFORCE), clock);
    for (int i = 0; i < 9; i++) {
      cb.onResult(true, MS);
    }
    clock.advanceMillis(1_100);
    assertEquals(0, cb.window()[0]);
    cb.onResult(true, MS);
    assertEquals(State.CLOSED, cb.state());
  }

  @Test
  void halfOpenAfterTheCoolOffLetsBoundedProbesThroughAndSuccessCloses() {
    CircuitBreaker cb = tripped(Mode.ENFORCE);
    clock.advanceMillis(499);
    assertEquals(State.OPEN, cb.state());
    assertTrue(cb.remainingOpenNanos() > 0);
    clock.advanceMillis(1);
    assertEquals(State.HALF_OPEN, cb.state());
    assertTrue(cb.tryRequest());
    assertTrue(cb.tryRequest());
    assertFalse(cb.allows(), "two probes out: no third");
    assertFalse(cb.tryRequest());
    cb.onResult(false, MS);
    assertEquals(State.CLOSED, cb.state());
    assertTrue(cb.allows());
  }

  @Test
  void aFailedProbeReopens() {
    CircuitBreaker cb = tripped(Mode.ENFORCE);
    clock.advanceMillis(500);
    assertTrue(cb.tryRequest());
    cb.onResult(true, MS);
    assertEquals(State.OPEN, cb.state());
    assertEquals(2, cb.opened());
    clock.advanceMillis(499);
    assertFalse(cb.allows());
  }

  @Test
  void probesThatNeverReportAreFreedAfterAnotherCoolOff() {
    CircuitBreaker cb = tripped(Mode.ENFORCE);
    clock.advanceMillis(500);
    assertTrue(cb.tryRequest());
    assertTrue(cb.tryRequest());
    assertFalse(cb.allows());
    clock.advanceMillis(500);
    assertTrue(cb.allows());
  }

  @Test
  void shadowModeCountsWouldOpenAndNeverRefuses() {
    CircuitBreaker cb = tripped(Mode.SHADOW);
    assertEquals(State.OPEN, cb.state());
    assertEquals(1, cb.wouldOpen());
    assertTrue(cb.allows());
    assertTrue(cb.tryRequest());
  }

  @Test
  void p2cSkipsAnOpenBackendAndReturnsNullWhenAllAreOpen() {
    Backend a = backend(1);
    Backend b = backend(2);
    a.circuit(config(Mode.ENFORCE));
    b.circuit(config(Mode.ENFORCE));
    for (int i = 0; i < 10; i++) {
      a.finished(MS, 1, true);
    }
    assertEquals(State.OPEN, a.circuitState());
    P2cSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, new Seeded(7));
    for (int i = 0; i < 200; i++) {
      assertSame(b, p2c.select(List.of(a, b)));
    }
    for (int i = 0; i < 10; i++) {
      b.finished(MS, 1, true);
    }
    assertNull(p2c.select(List.of(a, b)));
    assertNull(p2c.select(List.of(a)));
    clock.advanceMillis(500);
    Backend probe = p2c.select(List.of(a, b));
    assertTrue(probe == a || probe == b, "a half-open backend is picked as a probe");
  }

  @Test
  void connectFailuresCount() {
    Backend a = backend(1);
    a.circuit(config(Mode.ENFORCE));
    for (int i = 0; i < 10; i++) {
      a.markDown("refused", MS, MS);
    }
    assertEquals(State.OPEN, a.circuitState());
  }

  @Test
  void anUnchangedConfigKeepsTheStateAndAChangedOneResetsIt() {
    Backend a = backend(1);
    a.circuit(config(Mode.ENFORCE));
    for (int i = 0; i < 10; i++) {
      a.finished(MS, 1, true);
    }
    a.circuit(config(Mode.ENFORCE));
    assertEquals(State.OPEN, a.circuitState());
    a.circuit(config(Mode.SHADOW));
    assertEquals(State.CLOSED, a.circuitState());
    a.circuit(null);
    assertTrue(a.circuitAllows());
  }

  private static final class Seeded implements io.mproxy.core.time.RandomSource {
    private final SplittableRandom r;

    Seeded(long seed) {
      r = new SplittableRandom(seed);
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

  private CircuitBreaker tripped(Mode mode) {
    CircuitBreaker cb = new CircuitBreaker(config(mode), clock);
    for (int i = 0; i < 10; i++) {
      cb.onResult(true, MS);
    }
    return cb;
  }

  private Backend backend(int port) {
    return new Backend(new BackendConfig(new HostPort("127.0.0.1", port), BackendConfig.Role.PRIMARY), clock);
  }
}

package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig.Score;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.time.ManualClock;
import org.junit.jupiter.api.Test;

class BackendTest {

  private static final long MS = 1_000_000L;
  private static final long BASE = 100 * MS;
  private static final long MAX = 1_000 * MS;

  private final ManualClock clock = new ManualClock();
  private final Backend backend =
      new Backend(new BackendConfig(new HostPort("10.0.0.1", 6379), BackendConfig.Role.PRIMARY), clock);

  @Test
  void startsUpAndTryable() {
    assertTrue(backend.healthy());
    assertTrue(backend.tryable());
    assertEquals("10.0.0.1:6379", backend.id());
  }

  @Test
  void markDownIsNotTryableUntilTheBackOffElapses() {
    backend.markDown("refused", BASE, MAX);
    assertFalse(backend.healthy());
    assertEquals(Backend.Health.DOWN, backend.health());
    assertEquals("refused", backend.lastError());
    assertFalse(backend.tryable());
    clock.advanceNanos(BASE - 1);
    assertFalse(backend.tryable());
    clock.advanceNanos(1);
    assertTrue(backend.tryable());
    assertFalse(backend.healthy(), "tryable again, but not up until something succeeds");
  }

  @Test
  void backOffDoublesWithEachFailureUpToTheMaximum() {
    long[] expected = {100 * MS, 200 * MS, 400 * MS, 800 * MS, MAX, MAX, MAX};
    for (int i = 0; i < expected.length; i++) {
      long now = clock.nanoTime();
      backend.markDown("x", BASE, MAX);
      assertEquals(i + 1, backend.consecutiveFailures());
      assertEquals(now + expected[i], backend.retryAtNanos(), "failure " + (i + 1));
      clock.advanceNanos(expected[i]);
      assertTrue(backend.tryable());
    }
  }

  @Test
  void manyFailuresNeverOverflowTheBackOff() {
    for (int i = 0; i < 200; i++) {
      backend.markDown("x", BASE, Long.MAX_VALUE / 4);
    }
    long backoff = backend.retryAtNanos() - clock.nanoTime();
    assertTrue(backoff > 0 && backoff <= Long.MAX_VALUE / 4, "backoff " + backoff);
    assertFalse(backend.tryable());
  }

  @Test
  void markUpResetsTheBackOff() {
    backend.markDown("x", BASE, MAX);
    backend.markDown("x", BASE, MAX);
    backend.markDown("x", BASE, MAX);
    backend.markUp();
    assertTrue(backend.healthy());
    assertTrue(backend.tryable());
    assertEquals(0, backend.consecutiveFailures());
    assertNull(backend.lastError());
    long now = clock.nanoTime();
    backend.markDown("again", BASE, MAX);
    assertEquals(now + BASE, backend.retryAtNanos(), "the next failure starts from the base again");
  }

  @Test
  void inflightCountsStartedMinusFinished() {
    backend.started();
    backend.started();
    assertEquals(2, backend.inflight());
    assertEquals(2.0, backend.score(Score.LEAST_INFLIGHT));
    backend.finished(5 * MS, 3.0);
    assertEquals(1, backend.inflight());
    assertEquals(1, backend.completed());
  }

  @Test
  void requestsStartedOnOneThreadAndEndedOnAnotherSumExactly() throws InterruptedException {
    int perThread = 20_000;
    Thread starter = new Thread(() -> {
      for (int i = 0; i < perThread; i++) {
        backend.started();
      }
    });
    starter.start();
    starter.join();
    assertEquals(perThread, backend.inflight());
    Thread[] enders = new Thread[2];
    for (int t = 0; t < enders.length; t++) {
      enders[t] = new Thread(() -> {
        for (int i = 0; i < perThread / 2; i++) {
          backend.finished(MS, 1.0, false, clock.nanoTime());
        }
      });
      enders[t].start();
    }
    for (Thread t : enders) {
      t.join();
    }
    assertEquals(0, backend.inflight(), "the ending threads' cells are negative, the sum is exact");
    assertEquals(perThread, backend.completed());
    backend.started(); // this thread's cell
    assertEquals(1, backend.inflight());
    assertEquals(1.0, backend.score(Score.LEAST_INFLIGHT));
  }

  @Test
  void answeredSinceMovesInMillisecondsAndNotOnErrors() {
    long t0 = clock.nanoTime();
    assertFalse(backend.answeredSince(t0 - 1), "no answer yet");
    backend.finished(MS, 1.0, false, t0);
    assertTrue(backend.answeredSince(t0 - 1), "the first answer is always recorded");
    assertFalse(backend.answeredSince(t0));
    backend.finished(MS, 1.0, false, t0 + MS / 2);
    assertFalse(backend.answeredSince(t0), "within a millisecond of the recorded answer: not written");
    backend.finished(MS, 1.0, true, t0 + 5 * MS);
    assertFalse(backend.answeredSince(t0), "an error is not an answer");
    backend.finished(MS, 1.0, false, t0 + 5 * MS);
    assertTrue(backend.answeredSince(t0 + 4 * MS));
  }

  @Test
  void peakEwmaScoreIsLatencyTimesLoad() {
    assertEquals(1.0, backend.score(Score.PEAK_EWMA), "no latency yet counts as 1 ns");
    backend.started();
    backend.finished(4 * MS, 1.0);
    assertEquals(4.0 * MS, backend.latencyEwmaNanos(), 1e-6);
    assertEquals(4.0 * MS, backend.score(Score.PEAK_EWMA), 1e-6);
    backend.started();
    backend.started();
    assertEquals(3 * 4.0 * MS, backend.score(Score.PEAK_EWMA), 1e-6);
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The meter's own lock: threads that start and end requests on one meter (a request ending on
 * another loop than it started on) while a ticker ticks it lose no update.
 */
class InflightMeterLockTest {

  @Test
  void startsEndsAndTicksOnSeveralThreadsLoseNothing() throws Exception {
    InflightMeter meter = new InflightMeter(0);
    int threads = 3;
    int perThread = 200_000;
    // a request of weight 1 started at 0 and never ended keeps the reset-on-idle from hiding a
    // lost update of the weights: every tick at t charges it, and the in-flight weight sum
    meter.start(1.0, 0);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong ticks = new AtomicLong();
    Thread ticker = new Thread(() -> {
      while (!done.get()) {
        meter.tick(0);
        ticks.incrementAndGet();
      }
    });
    ticker.start();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          long seq = meter.start(2.0, 0);
          meter.end(2.0, 0, seq);
        }
      });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join(120_000);
      assertFalse(w.isAlive(), "worker did not finish");
    }
    done.set(true);
    ticker.join(60_000);
    assertFalse(ticker.isAlive(), "ticker did not finish");
    assertEquals(1, meter.inflight(), "every start and end counted");
    // 1 ms later only the long request is in flight: weight 1 for 1 ms is 1 RU
    assertEquals(1.0, meter.tick(1_000_000), 1e-9, "the in-flight weight is exactly the long request's");
    assertEquals(1.0, meter.end(1.0, 0, 0), 1e-9, "the ticks charged it for the 1 ms it ran");
    assertEquals(0, meter.inflight());
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.telemetry.ThreadSlots;
import io.mproxy.core.time.Clock;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An event loop's in-flight meter takes no lock for its starts and ends, and the ticker hands it
 * its folds: the latency charge stays exact while ticks race starts and ends on two loops, while
 * requests end on the other loop, and while a request hangs.
 */
class InflightLoopMeterTest {

  private static final long MS = 1_000_000L;

  /** Every reading is a microsecond after the previous one, on any thread. */
  private final AtomicLong nanos = new AtomicLong();
  private final Clock clock = new Clock() {
    @Override
    public long nanoTime() {
      return nanos.addAndGet(1_000);
    }

    @Override
    public long wallMillis() {
      return nanos.get() / MS;
    }
  };
  private final ResourceGroup group = new ResourceGroup(
      new ResourceGroupConfig("g", 1e12, 1e12, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e12), clock);
  private final DefaultEventExecutorGroup loops = new DefaultEventExecutorGroup(2);

  @AfterEach
  void stop() throws Exception {
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
  }

  /**
   * What Ticket does: starts metering at dispatch and, at the end, settles its latency charge
   * less what the ticks charged. Returns the latency RU the request cost in all.
   */
  private double startAndEnd(double w, EventExecutor startOn, EventExecutor endOn) throws Exception {
    long[] started = on(startOn, () -> {
      long s = clock.nanoTime();
      return new long[] {s, group.startInflight(w, s)};
    });
    return on(endOn, () -> {
      long e = clock.nanoTime();
      double full = w * (e - started[0]) / 1e6;
      group.charge(full - group.endInflight(w, started[0], started[1]), e);
      return full;
    });
  }

  @Test
  void aLoopsMeterTakesNoLockForItsStartsAndEnds() throws Exception {
    EventExecutor loop = loops.next();
    on(loop, () -> group.startInflight(1.0, clock.nanoTime())); // makes the loop's meter
    InflightMeter meter = meterOf(loop);
    assertTrue(meter.ownedByLoop());
    // with the meter's monitor held here, a start and an end on its loop still go through
    synchronized (meter) {
      startAndEnd(2.0, loop, loop);
      assertEquals(1, meter.inflight());
    }
    InflightMeter plain = new InflightMeter();
    assertFalse(plain.ownedByLoop(), "a meter made off any event loop takes its monitor");
  }

  @Test
  void ticksRacingStartsAndEndsOnTwoLoopsChargeEveryRequestExactlyOnce() throws Exception {
    EventExecutor a = loops.next();
    EventExecutor b = loops.next();
    int perLoop = 20_000;
    AtomicBoolean done = new AtomicBoolean();
    Thread ticker = new Thread(() -> {
      while (!done.get()) {
        group.tick();
      }
    });
    ticker.start();
    double[] due = new double[2];
    List<Thread> drivers = new ArrayList<>();
    EventExecutor[][] routes = {{a, a}, {b, b}};
    for (int d = 0; d < 2; d++) {
      int id = d;
      Thread t = new Thread(() -> {
        EventExecutor startOn = routes[id][0];
        EventExecutor endOn = routes[id][1];
        try {
          // batches of requests in flight at once, ended in order, so ticks land mid-flight
          for (int i = 0; i < perLoop; i += 8) {
            due[id] += on(startOn, () -> {
              double sum = 0;
              long[][] s = new long[8][];
              for (int k = 0; k < 8; k++) {
                long at = clock.nanoTime();
                s[k] = new long[] {at, group.startInflight(1.0 + k, at)};
              }
              for (int k = 0; k < 8; k++) {
                long e = clock.nanoTime();
                double full = (1.0 + k) * (e - s[k][0]) / 1e6;
                group.charge(full - group.endInflight(1.0 + k, s[k][0], s[k][1]), e);
                sum += full;
              }
              return sum;
            });
          }
          // and some that start on one loop and end on the other
          for (int i = 0; i < 200; i++) {
            due[id] += startAndEnd(3.0, startOn, id == 0 ? b : a);
          }
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      drivers.add(t);
      t.start();
    }
    for (Thread t : drivers) {
      t.join(120_000);
      assertFalse(t.isAlive(), "driver did not finish");
    }
    done.set(true);
    ticker.join(60_000);
    assertFalse(ticker.isAlive());
    settle(a, b);
    assertEquals(0, group.inflight());
    double expected = due[0] + due[1];
    assertEquals(expected, group.ruChargedTotal(), expected * 1e-9,
        "every request's latency charged once: by the ticks and its own settlement together");
  }

  @Test
  void aRequestEndedOnAnotherLoopIsRefundedWhatTheTicksChargedForIt() throws Exception {
    EventExecutor a = loops.next();
    EventExecutor b = loops.next();
    long[] started = on(a, () -> {
      long s = clock.nanoTime();
      return new long[] {s, group.startInflight(2.0, s)};
    });
    nanos.addAndGet(5 * MS);
    group.tick();
    settle(a, b);
    double ticked = group.ruChargedTotal();
    assertTrue(ticked >= 10.0, "the ticks charged the request while it ran: " + ticked);
    double full = on(b, () -> {
      long e = clock.nanoTime();
      double f = 2.0 * (e - started[0]) / 1e6;
      group.charge(f - group.endInflight(2.0, started[0], started[1]), e);
      return f;
    });
    settle(a, b);
    assertEquals(0, group.inflight());
    assertEquals(full, group.ruChargedTotal(), 1e-9, "ticks, settlement and refund add up to the request's charge");
  }

  @Test
  void aHangingRequestIsChargedByEveryTickOnItsLoop() throws Exception {
    EventExecutor a = loops.next();
    EventExecutor b = loops.next();
    on(a, () -> group.startInflight(1.0, clock.nanoTime()));
    double before = group.ruChargedTotal();
    for (int i = 0; i < 3; i++) {
      nanos.addAndGet(10 * MS);
      group.tick();
      settle(a, b);
      double now = group.ruChargedTotal();
      assertTrue(now - before >= 10.0, "tick " + i + " charged " + (now - before));
      before = now;
    }
    assertEquals(1, group.inflight());
  }

  /** One more tick, with every loop's fold and refunds run. */
  private void settle(EventExecutor a, EventExecutor b) throws Exception {
    for (int round = 0; round < 2; round++) {
      on(a, () -> null);
      on(b, () -> null);
      group.tick();
      on(a, () -> null);
      on(b, () -> null);
    }
  }

  private InflightMeter meterOf(EventExecutor loop) throws Exception {
    return on(loop, () -> group.meter(ThreadSlots.current()));
  }

  private static <T> T on(EventExecutor loop, Callable<T> task) throws Exception {
    return loop.submit(task).get(60, TimeUnit.SECONDS);
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.time.ManualClock;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A group meters in-flight latency on one meter per dispatching thread: a request that starts on
 * one thread and ends on another ends on the meter it started on, the ticker charges every
 * thread's requests, and nothing is charged twice or lost.
 */
class InflightShardsTest {

  private static final long MS = 1_000_000L;

  private final ManualClock clock = new ManualClock();
  private final ResourceGroup group = new ResourceGroup(
      new ResourceGroupConfig("g", 1e9, 1e9, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e9), clock);

  @Test
  void requestsStartedOnSeveralThreadsAreTickedAndEndAnywhere() throws Exception {
    AtomicLong tickA = new AtomicLong();
    AtomicLong tickB = new AtomicLong();
    on(() -> tickA.set(group.startInflight(1.0, clock.nanoTime())));
    clock.advanceMillis(4);
    on(() -> tickB.set(group.startInflight(2.0, clock.nanoTime())));
    assertEquals(2, group.inflight());
    clock.advanceMillis(6);
    // A has been in flight 10 ms at weight 1, B 6 ms at weight 2
    assertEquals(22.0, group.tick(), 1e-9);
    clock.advanceMillis(5);
    AtomicReference<Double> chargedA = new AtomicReference<>();
    on(() -> chargedA.set(group.endInflight(1.0, 0, tickA.get()))); // a third thread ends A
    assertEquals(10.0, chargedA.get(), 1e-9); // what the tick charged for A
    assertEquals(6 * 2.0, group.endInflight(2.0, 4 * MS, tickB.get()), 1e-9); // and the test thread ends B
    assertEquals(0, group.inflight());
    clock.advanceMillis(5);
    assertEquals(0.0, group.tick(), 1e-9); // nothing left in flight: nothing charged
  }

  @Test
  void aThreadThatStoppedStillHasItsRequestsTicked() throws Exception {
    on(() -> group.startInflight(1.0, clock.nanoTime()));
    clock.advanceMillis(3);
    assertEquals(3.0, group.tick(), 1e-9);
    clock.advanceMillis(2);
    assertEquals(2.0, group.tick(), 1e-9);
    assertEquals(1, group.inflight());
  }

  private static void on(Runnable r) throws Exception {
    Thread t = new Thread(r);
    t.start();
    t.join(10_000);
    if (t.isAlive()) {
      throw new AssertionError("helper thread did not finish");
    }
  }
}

package io.mproxy.core.admission;

import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live state of one resource group: its RU bucket (refilled at the local share of the
 * group's budget), how many requests wait in its queue, and the latency meter that charges
 * in-flight requests as time passes.
 *
 * <p>In-flight latency is metered in O(1) per request: each dispatched request adds its latency
 * weight to {@link #inflightWeight}; every tick the group is charged {@code sum * tickMs} and the
 * tick counter advances; on completion a request reconciles what the ticks charged for it with
 * its exact latency.
 */
public final class ResourceGroup {

  private static final double WEIGHT_SCALE = 1e6;

  private final String name;
  private final TokenBucket bucket;
  private final AtomicInteger queued = new AtomicInteger();
  private final LongAdder admitted = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder inflightWeight = new LongAdder();
  private final AtomicInteger inflight = new AtomicInteger();
  private final AtomicLong ticks = new AtomicLong();
  private final DoubleAdder ruCharged = new DoubleAdder();
  private volatile ResourceGroupConfig config;
  private volatile double shareRuPerSec;

  public ResourceGroup(ResourceGroupConfig config, Clock clock) {
    this.name = config.name();
    this.config = config;
    this.shareRuPerSec = config.ruPerSec();
    this.bucket = new TokenBucket(clock, config.ruPerSec(), config.burst(), config.maxDebt());
  }

  /** Applies a reloaded config in place: live connections see the new limit at once. */
  public void reconfigure(ResourceGroupConfig next) {
    this.config = next;
    this.shareRuPerSec = next.ruPerSec();
    bucket.configure(next.ruPerSec(), next.burst(), next.maxDebt());
  }

  /** Sets this node's share of the group's global budget (fleet budget sharing). */
  public void share(double ruPerSec) {
    ResourceGroupConfig c = config;
    this.shareRuPerSec = ruPerSec;
    bucket.configure(ruPerSec, c.burst(), c.maxDebt());
  }

  public String name() {
    return name;
  }

  public ResourceGroupConfig config() {
    return config;
  }

  public TokenBucket bucket() {
    return bucket;
  }

  public double shareRuPerSec() {
    return shareRuPerSec;
  }

  /** Reserves a place in the wait queue; false when it is full. */
  boolean tryEnqueue() {
    int max = config.maxQueued();
    while (true) {
      int q = queued.get();
      if (q >= max) {
        return false;
      }
      if (queued.compareAndSet(q, q + 1)) {
        return true;
      }
    }
  }

  void dequeue() {
    queued.decrementAndGet();
  }

  public int queued() {
    return queued.get();
  }

  void countAdmitted() {
    admitted.increment();
  }

  void countRejected() {
    rejected.increment();
  }

  public long admittedTotal() {
    return admitted.sum();
  }

  public long rejectedTotal() {
    return rejected.sum();
  }

  public int inflight() {
    return inflight.get();
  }

  /** Total RU charged to this group since start (estimates, latency ticks and settlements). */
  public double ruChargedTotal() {
    return ruCharged.sum();
  }

  void charge(double ru) {
    bucket.settle(ru);
    ruCharged.add(ru);
  }

  /** Counts RU the bucket has already taken (an admission estimate) in the charged total. */
  void countCharged(double ru) {
    ruCharged.add(ru);
  }

  long startInflight(double latencyWeight) {
    inflight.incrementAndGet();
    if (latencyWeight > 0) {
      inflightWeight.add(Math.round(latencyWeight * WEIGHT_SCALE));
    }
    return ticks.get();
  }

  /** Ends in-flight metering; returns how many ticks have passed since {@code startTick}. */
  long endInflight(double latencyWeight, long startTick) {
    inflight.decrementAndGet();
    if (latencyWeight > 0) {
      inflightWeight.add(-Math.round(latencyWeight * WEIGHT_SCALE));
    }
    return ticks.get() - startTick;
  }

  /** Charges one tick of latency for every request in flight; returns the RU charged. */
  double tick(double tickMs) {
    ticks.incrementAndGet();
    long w = inflightWeight.sum();
    if (w <= 0) {
      return 0;
    }
    double ru = w / WEIGHT_SCALE * tickMs;
    charge(ru);
    return ru;
  }
}

package io.mproxy.core.admission;

import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.telemetry.ThreadSlots;
import io.mproxy.core.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live state of one resource group: its RU bucket (refilled at the local share of the
 * group's budget), how many requests wait in its queue, and the latency meter that charges
 * in-flight requests as time passes.
 *
 * <p>In-flight latency is metered by an {@link InflightMeter}: every tick charges the group for the
 * time its requests actually spent in flight since the previous tick, so a hanging request drains
 * the budget as it hangs; on completion a request settles only what the ticks have not charged.
 * There is one meter per thread that dispatches ({@link ThreadSlots}): its lock is taken by that
 * thread and, once per tick, by the ticker, instead of by every event loop for every request. A
 * request ends on the meter it started on (its start tick carries the meter's slot), whichever
 * thread ends it.
 */
public final class ResourceGroup {

  private final String name;
  private final TokenBucket bucket;
  private final AtomicInteger queued = new AtomicInteger();
  private final LongAdder admitted = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final PerThread<InflightMeter> meters;
  /** Start ticks carry the meter's slot in their low bits. */
  private static final int SLOT_BITS = 16;
  private static final int SHARED_SLOT = (1 << SLOT_BITS) - 1;
  private final Clock clock;
  private final DoubleAdder ruCharged = new DoubleAdder();
  private final DoubleAdder ruAsked = new DoubleAdder();
  private final DoubleAdder readRu = new DoubleAdder();
  private final LongAdder reads = new LongAdder();
  private final LongAdder wouldReject = new LongAdder();
  private final LongAdder wouldShed = new LongAdder();
  private volatile Codel codel;
  private volatile ResourceGroupConfig config;
  private volatile double shareRuPerSec;
  /** This node's fraction of the global limit when a fleet shares it; NaN when alone. */
  private volatile double shareFraction = Double.NaN;

  public ResourceGroup(ResourceGroupConfig config, Clock clock) {
    this.name = config.name();
    this.config = config;
    this.shareRuPerSec = config.ruPerSec();
    this.bucket = new TokenBucket(clock, config.ruPerSec(), config.burst(), config.maxDebt());
    this.clock = clock;
    this.meters = new PerThread<>(InflightMeter::new);
    this.codel = config.codel() == null ? null : new Codel(config.codel(), clock.nanoTime());
  }

  /**
   * Applies a reloaded config in place: live connections see the new limit at once. A node in a
   * fleet keeps its fraction of the (possibly changed) global limit until the next share round.
   */
  public synchronized void reconfigure(ResourceGroupConfig next) {
    if (!java.util.Objects.equals(config.codel(), next.codel())) {
      this.codel = next.codel() == null ? null : new Codel(next.codel(), clock.nanoTime());
    }
    this.config = next;
    double fraction = shareFraction;
    if (Double.isNaN(fraction)) {
      this.shareRuPerSec = next.ruPerSec();
      bucket.configure(next.ruPerSec(), next.burst(), next.maxDebt());
      return;
    }
    applyShare(next, fraction);
  }

  /**
   * Sets this node's share of the group's global budget (fleet budget sharing). Burst and debt
   * shrink in the same proportion as the rate, so that the fleet's combined burst is the
   * configured one rather than one burst per node. A share above the global limit is capped.
   */
  public synchronized void share(double ruPerSec) {
    if (!(ruPerSec > 0) || !Double.isFinite(ruPerSec)) {
      throw new IllegalArgumentException("share: " + ruPerSec + " (expected: > 0)");
    }
    ResourceGroupConfig c = config;
    double fraction = Math.min(1.0, ruPerSec / c.ruPerSec());
    this.shareFraction = fraction;
    applyShare(c, fraction);
  }

  /** Leaves the fleet: the bucket refills at the whole configured limit again. */
  public synchronized void unshare() {
    this.shareFraction = Double.NaN;
    ResourceGroupConfig c = config;
    this.shareRuPerSec = c.ruPerSec();
    bucket.configure(c.ruPerSec(), c.burst(), c.maxDebt());
  }

  private void applyShare(ResourceGroupConfig c, double fraction) {
    this.shareRuPerSec = c.ruPerSec() * fraction;
    bucket.configure(shareRuPerSec, c.burst() * fraction, c.maxDebt() * fraction);
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
    int[] sum = {0};
    meters.forEach(m -> sum[0] += m.inflight());
    return sum[0];
  }

  /** Total RU charged to this group since start (estimates, latency ticks and settlements). */
  public double ruChargedTotal() {
    return ruCharged.sum();
  }

  /**
   * Total RU asked for by requests classified into this group since start, admitted or refused:
   * the demand a fleet splits its budget by.
   */
  public double ruAskedTotal() {
    return ruAsked.sum();
  }

  /** This group's own CoDel controller, or null when the group has no {@code codel}. */
  public Codel codel() {
    return codel;
  }

  /**
   * Mean RU of this group's completed reads, or 0 before the first: the estimate for a read whose
   * fingerprint has no history yet, so that a new shape is not admitted at the 1 RU base.
   */
  double meanReadRu() {
    long n = reads.sum();
    return n == 0 ? 0 : readRu.sum() / n;
  }

  void recordRead(double ru) {
    readRu.add(ru);
    reads.increment();
  }

  void countWouldReject() {
    wouldReject.increment();
  }

  void countWouldShed() {
    wouldShed.increment();
  }

  /** Requests a shadow-mode group let through that its RU limit would have refused. */
  public long wouldRejectTotal() {
    return wouldReject.sum();
  }

  /** Requests a shadow-mode group let through that CoDel would have shed. */
  public long wouldShedTotal() {
    return wouldShed.sum();
  }

  void countAsked(double ru) {
    ruAsked.add(ru);
  }

  void charge(double ru) {
    bucket.settle(ru);
    ruCharged.add(ru);
  }

  /** {@link #charge(double)} at {@code nowNanos}, the caller's clock reading. */
  void charge(double ru, long nowNanos) {
    bucket.settle(ru, nowNanos);
    ruCharged.add(ru);
  }

  /** Counts RU the bucket has already taken (an admission estimate) in the charged total. */
  void countCharged(double ru) {
    ruCharged.add(ru);
  }

  /** Starts metering a request dispatched at {@code nowNanos}; returns the tick it started in. */
  long startInflight(double latencyWeight, long nowNanos) {
    int slot = Math.min(ThreadSlots.current(), SHARED_SLOT);
    return meters.get(slot).start(latencyWeight, nowNanos) << SLOT_BITS | slot;
  }

  /** Ends metering; returns the latency RU the ticks have already charged for the request. */
  double endInflight(double latencyWeight, long startNanos, long startTick) {
    return meters.get((int) (startTick & SHARED_SLOT)).end(latencyWeight, startNanos, startTick >>> SLOT_BITS);
  }

  /** Charges the in-flight latency accrued since the last tick; returns the RU charged. */
  double tick() {
    long now = clock.nanoTime();
    double[] sum = {0};
    meters.forEach(m -> sum[0] += m.tick(now));
    double ru = sum[0];
    if (ru > 0) {
      charge(ru);
    }
    return ru;
  }
}

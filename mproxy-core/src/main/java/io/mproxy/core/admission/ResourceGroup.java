package io.mproxy.core.admission;

import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.telemetry.ThreadSlots;
import io.mproxy.core.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live state of one resource group: its RU bucket (refilled at the local share of the
 * group's budget), how many requests wait in its queue, and the latency meter that charges
 * in-flight requests as time passes.
 *
 * <p>In-flight latency is metered by an {@link InflightMeter}: every tick charges the group for the
 * time its requests actually spent in flight since the previous tick, so a hanging request drains
 * the budget as it hangs; on completion a request settles only what the ticks have not charged.
 * There is one meter per thread that dispatches ({@link ThreadSlots}). An event loop's meter is
 * the loop's alone: its starts and ends take no lock, and the ticker hands it its fold as a task
 * (see {@link InflightMeter}). A request ends on the meter it started on (its start tick carries
 * the meter's slot), whichever thread ends it.
 *
 * <p>The group's totals (admitted, rejected, RU asked and charged, read RU for the mean, shadow
 * counts) are per thread too: each thread adds to its own cells with release stores and a reader
 * (the status page, the fleet's share round) sums them, so a request writes no line another
 * event loop writes, and the sums are exact.
 */
public final class ResourceGroup {

  private final String name;
  private final TokenBucket bucket;
  private final AtomicInteger queued = new AtomicInteger();
  private final PerThread<InflightMeter> meters;
  /** Start ticks carry the meter's slot in their low bits. */
  private static final int SLOT_BITS = 16;
  private static final int SHARED_SLOT = (1 << SLOT_BITS) - 1;
  private final Clock clock;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle DOUBLES = MethodHandles.arrayElementVarHandle(double[].class);
  /** Indexes of {@link Tally#counts}. */
  private static final int ADMITTED = 0;
  private static final int REJECTED = 1;
  private static final int READS = 2;
  private static final int WOULD_REJECT = 3;
  private static final int WOULD_SHED = 4;
  /** Indexes of {@link Tally#ru}. */
  private static final int RU_CHARGED = 0;
  private static final int RU_ASKED = 1;
  private static final int READ_RU = 2;
  private final PerThread<Tally> tallies = new PerThread<>(Tally::new);
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
    // made by the first start on each slot, on that slot's thread (see startInflight)
    this.meters = new PerThread<>(this::newMeter);
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
    add(ADMITTED);
  }

  void countRejected() {
    add(REJECTED);
  }

  public long admittedTotal() {
    return sum(ADMITTED);
  }

  public long rejectedTotal() {
    return sum(REJECTED);
  }

  public int inflight() {
    int[] sum = {0};
    meters.forEach(m -> sum[0] += m.inflight());
    return sum[0];
  }

  /** Total RU charged to this group since start (estimates, latency ticks and settlements). */
  public double ruChargedTotal() {
    return sumRu(RU_CHARGED);
  }

  /**
   * Total RU asked for by requests classified into this group since start, admitted or refused:
   * the demand a fleet splits its budget by.
   */
  public double ruAskedTotal() {
    return sumRu(RU_ASKED);
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
    long n = tallies.sum(ResourceGroup::readsOf);
    return n == 0 ? 0 : tallies.sumDouble(ResourceGroup::readRuOf) / n;
  }

  // Non-capturing, so meanReadRu (on the admission path) allocates nothing.
  private static long readsOf(Tally t) {
    return (long) LONGS.getAcquire(t.counts, READS);
  }

  private static double readRuOf(Tally t) {
    return (double) DOUBLES.getAcquire(t.ru, READ_RU);
  }

  void recordRead(double ru) {
    recordRead(tallies.get(), ru);
  }

  private static void recordRead(Tally t, double ru) {
    addRu(t, READ_RU, ru);
    LONGS.setRelease(t.counts, READS, t.counts[READS] + 1);
  }

  void countWouldReject() {
    add(WOULD_REJECT);
  }

  void countWouldShed() {
    add(WOULD_SHED);
  }

  /** Requests a shadow-mode group let through that its RU limit would have refused. */
  public long wouldRejectTotal() {
    return sum(WOULD_REJECT);
  }

  /** Requests a shadow-mode group let through that CoDel would have shed. */
  public long wouldShedTotal() {
    return sum(WOULD_SHED);
  }

  void countAsked(double ru) {
    addRu(tallies.get(), RU_ASKED, ru);
  }

  void charge(double ru) {
    bucket.settle(ru);
    addRu(tallies.get(), RU_CHARGED, ru);
  }

  /** {@link #charge(double)} at {@code nowNanos}, the caller's clock reading. */
  void charge(double ru, long nowNanos) {
    bucket.settle(ru, nowNanos);
    addRu(tallies.get(), RU_CHARGED, ru);
  }

  /** Counts RU the bucket has already taken (an admission estimate) in the charged total. */
  void countCharged(double ru) {
    addRu(tallies.get(), RU_CHARGED, ru);
  }

  /**
   * An estimate the bucket granted at once, on the calling thread's {@code slot}
   * ({@link ThreadSlots#current()}): asked and charged, and counted as admitted when
   * {@code admitted} (no priority gate to pass) — the three totals with one look-up of the
   * thread's cells instead of three.
   */
  void countGranted(double estimate, boolean admitted, int slot) {
    Tally t = tallies.get(slot);
    double[] r = t.ru;
    DOUBLES.setRelease(r, RU_ASKED, r[RU_ASKED] + estimate);
    DOUBLES.setRelease(r, RU_CHARGED, r[RU_CHARGED] + estimate);
    if (admitted) {
      long[] c = t.counts;
      LONGS.setRelease(c, ADMITTED, c[ADMITTED] + 1);
    }
  }

  /**
   * Settles a request that ended on the calling thread's {@code slot}: {@code delta} goes to the
   * bucket and the charged total (as {@link #charge(double, long)}), and when {@code read} (a
   * read that reached a backend) its {@code readRu} feeds the read mean (as {@link #recordRead}),
   * with one look-up of the thread's cells and of its bucket credit.
   */
  void settle(double delta, boolean read, double readRu, long nowNanos, int slot) {
    bucket.settle(delta, nowNanos, slot);
    Tally t = tallies.get(slot);
    if (read) {
      recordRead(t, readRu);
    }
    addRu(t, RU_CHARGED, delta);
  }

  private InflightMeter newMeter() {
    // the threads past the shared slot share one meter: only a slot of its own may be loop-owned
    return ThreadSlots.current() < SHARED_SLOT ? InflightMeter.forCurrentThread(this) : new InflightMeter();
  }

  /** The in-flight meter of {@code slot} (for tests). */
  InflightMeter meter(int slot) {
    return meters.get(slot);
  }

  /** A reading of the group's clock (a loop-owned meter's fold takes one). */
  long clockNanos() {
    return clock.nanoTime();
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

  /**
   * Charges the in-flight latency accrued since the last tick; returns the RU charged here. The
   * meters of live event loops are folded on their loops, which charge the group themselves
   * (their share is not in the returned figure).
   */
  double tick() {
    long now = clock.nanoTime();
    double[] sum = {0};
    meters.forEach(m -> sum[0] += m.tick(now));
    double ru = sum[0];
    if (ru != 0) {
      charge(ru);
    }
    return ru;
  }

  private void add(int counter) {
    long[] c = tallies.get().counts;
    LONGS.setRelease(c, counter, c[counter] + 1);
  }

  private static void addRu(Tally t, int kind, double ru) {
    double[] r = t.ru;
    DOUBLES.setRelease(r, kind, r[kind] + ru);
  }

  private long sum(int counter) {
    long[] sum = {0};
    tallies.forEach(t -> sum[0] += (long) LONGS.getAcquire(t.counts, counter));
    return sum[0];
  }

  private double sumRu(int kind) {
    double[] sum = {0};
    tallies.forEach(t -> sum[0] += (double) DOUBLES.getAcquire(t.ru, kind));
    return sum[0];
  }

  /** One thread's totals, written by that thread alone ({@link PerThread}). */
  private static final class Tally {
    final long[] counts = new long[5];
    final double[] ru = new double[3];
  }
}

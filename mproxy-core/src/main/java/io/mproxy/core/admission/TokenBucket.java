package io.mproxy.core.admission;

import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.telemetry.ThreadSlots;
import io.mproxy.core.time.Clock;

/**
 * An RU token bucket that may go into bounded debt. Admission takes the estimate up front;
 * settling adds or refunds the difference once the real cost is known, and in-flight latency is
 * charged as it accrues. The bucket refills at {@code rate} per second up to {@code capacity} and
 * never falls below {@code -maxDebt}.
 *
 * <p>Queue mode reserves: a request that may wait takes its tokens now (driving the balance
 * negative) and is told how long to wait until the refill has paid for them — so waiters are
 * served in arrival order and their number is bounded by the longest wait allowed. Reservations
 * are kept apart from the settled balance: the {@code -maxDebt} floor bounds what settling and
 * in-flight charges may owe, and must never forgive tokens a waiter has reserved (that would let
 * the next waiters in early and break the rate).
 *
 * <p><b>Per-thread credit.</b> Every event loop admits and settles requests of the same groups, and
 * a lock per {@link #acquire} and per {@link #settle} made two loops hand the bucket's cache line
 * back and forth for every request. When the rate makes it worth it (a batch of at least 1 RU),
 * a thread that must visit the shared balance takes, besides its cost, a small batch of credit
 * ({@code min(rate × 1 ms, capacity / 16)}) that it alone spends: later acquisitions and settlements
 * that its credit covers (up to two batches of refunds) touch nothing shared. Whatever credit cannot
 * cover (an empty credit, a refusal, a wait in queue mode, a large charge) goes to the shared balance
 * under the lock exactly as before, after the thread has given its credit back, so near exhaustion
 * the decisions are the exact ones. The accuracy trade-off: credit was taken from the balance, so
 * no token is spent twice, but a thread's unspent credit is not visible to the others. Over any
 * interval the group can admit at most {@code capacity + rate × t} plus the credit held when the
 * interval began, at most two batches (2 ms of the rate) per thread; a thread may be refused
 * while another holds up to that much unspent credit; and a thread that stops using the group
 * strands at most two batches. {@link #configure} starts a new lease generation: older credit is
 * given back (clamped to the new capacity) the next time its thread comes, never spent. Slower
 * groups (below 1,000 RU/s or 16 RU of burst) keep no credit and take the lock every time.
 */
public final class TokenBucket {

  /** {@link #acquire} result for "granted at once". */
  public static final long GRANTED = 0L;

  private final Clock clock;
  private double ratePerSec;
  private double capacity;
  private double maxDebt;
  /** The settled balance, within {@code [-maxDebt, capacity]}. */
  private double tokens;
  /** Queue reservations the refill has not paid for yet; the balance seen by callers is {@code tokens - reserved}. */
  private double reserved;
  private double forgiven;
  private long lastRefillNanos;
  /** Credit a thread may hold; 0 when leasing is off (slow groups). */
  private volatile double leaseBatch;
  /** Bumped by {@link #configure}: credit of an older generation is returned, not spent. */
  private volatile long leaseGeneration;
  private final PerThread<Lease> leases = new PerThread<>(Lease::new);

  /** A thread's credit: written by its thread alone, read by others only for display. */
  private static final class Lease {
    double credit;
    long generation;
  }

  /** Leasing needs a batch of at least this much: below it, every request would come back anyway. */
  static final double MIN_LEASE_BATCH = 1.0;
  /** A batch is this much time at the refill rate... */
  static final double LEASE_SECONDS = 0.001;
  /** ...and at most this fraction of the capacity. */
  static final double LEASE_CAPACITY_FRACTION = 1.0 / 16;

  public TokenBucket(Clock clock, double ratePerSec, double capacity, double maxDebt) {
    this.clock = clock;
    this.lastRefillNanos = clock.nanoTime();
    configure(ratePerSec, capacity, maxDebt);
    this.tokens = this.capacity;
  }

  /** Applies new limits in place; the current balance is kept (clamped to the new range). */
  public synchronized void configure(double newRatePerSec, double newCapacity, double newMaxDebt) {
    if (newRatePerSec <= 0 || newCapacity <= 0 || newMaxDebt < 0) {
      throw new IllegalArgumentException("rate and capacity must be > 0, debt >= 0");
    }
    refill();
    this.ratePerSec = newRatePerSec;
    this.capacity = newCapacity;
    this.maxDebt = newMaxDebt;
    this.tokens = clamp(tokens);
    double batch = Math.min(newRatePerSec * LEASE_SECONDS, newCapacity * LEASE_CAPACITY_FRACTION);
    this.leaseBatch = batch >= MIN_LEASE_BATCH ? batch : 0;
    this.leaseGeneration++;
  }

  /**
   * Takes {@code cost} tokens. Returns {@link #GRANTED}; or a positive number of nanoseconds
   * the caller must wait before proceeding (tokens already reserved; only when that wait is at
   * most {@code maxWaitNanos}); or a negative number {@code -1 - n} when refused, where {@code n}
   * is the nanoseconds until the cost would be affordable (the retry-after).
   *
   * <p>A cost above the capacity is admitted once the bucket is full, then runs into debt:
   * otherwise a single large request could never run.
   */
  public long acquire(double cost, long maxWaitNanos) {
    return acquire(cost, maxWaitNanos, clock.nanoTime());
  }

  /**
   * {@link #acquire(double, long)} at {@code nowNanos}, a clock reading the caller already took
   * (admission reads the clock once per request). A reading older than the last refill adds
   * nothing.
   */
  public long acquire(double cost, long maxWaitNanos, long nowNanos) {
    return leaseBatch > 0 ? acquire(cost, maxWaitNanos, nowNanos, ThreadSlots.current())
        : acquireShared(null, cost, maxWaitNanos, nowNanos);
  }

  /**
   * {@link #acquire(double, long, long)} by the thread whose {@link ThreadSlots#current()} is
   * {@code slot} (admission looks its slot up once for everything it counts).
   */
  long acquire(double cost, long maxWaitNanos, long nowNanos, int slot) {
    if (leaseBatch > 0) {
      Lease l = leases.get(slot);
      double c = l.credit;
      if (c >= cost && l.generation == leaseGeneration) {
        l.credit = c - cost;
        return GRANTED;
      }
      return acquireShared(l, cost, maxWaitNanos, nowNanos);
    }
    return acquireShared(null, cost, maxWaitNanos, nowNanos);
  }

  private synchronized long acquireShared(Lease lease, double cost, long maxWaitNanos, long nowNanos) {
    refill(nowNanos);
    giveBack(lease);
    double needed = Math.min(cost, capacity);
    double balance = tokens - reserved;
    double batch = leaseBatch;
    if (lease != null && batch > 0 && balance >= cost + batch) {
      take(cost + batch);
      lease.credit = batch;
      return GRANTED;
    }
    if (balance >= needed) {
      take(cost);
      return GRANTED;
    }
    long wait = nanosFor(needed - balance);
    if (maxWaitNanos > 0 && wait <= maxWaitNanos) {
      reserved += cost;
      return Math.max(1L, wait);
    }
    return -1L - wait;
  }

  /**
   * Adds {@code delta} to what was charged (negative refunds). Charges below {@code -maxDebt}
   * are forgiven rather than taken, and a later refund first pays back what was forgiven: a
   * refund never returns tokens that were never taken.
   */
  public void settle(double delta) {
    settle(delta, clock.nanoTime());
  }

  /** {@link #settle(double)} at {@code nowNanos}, a clock reading the caller already took. */
  public void settle(double delta, long nowNanos) {
    if (leaseBatch > 0) {
      settle(delta, nowNanos, ThreadSlots.current());
      return;
    }
    settleShared(null, delta, nowNanos);
  }

  /** {@link #settle(double, long)} by the thread whose {@link ThreadSlots#current()} is {@code slot}. */
  void settle(double delta, long nowNanos, int slot) {
    double batch = leaseBatch;
    if (batch > 0) {
      Lease l = leases.get(slot);
      double c = l.credit - delta;
      if (c >= 0 && c <= 2 * batch && l.generation == leaseGeneration) {
        l.credit = c;
        return;
      }
      settleShared(l, delta, nowNanos);
      return;
    }
    settleShared(null, delta, nowNanos);
  }

  private synchronized void settleShared(Lease lease, double delta, long nowNanos) {
    refill(nowNanos);
    giveBack(lease);
    if (delta >= 0) {
      take(delta);
      return;
    }
    double refund = -delta;
    double repaid = Math.min(forgiven, refund);
    forgiven -= repaid;
    double back = refund - repaid;
    double unreserved = Math.min(reserved, back);
    reserved -= unreserved;
    tokens = Math.min(capacity, tokens + back - unreserved);
    forgetForgivenWhenFull();
  }

  /**
   * Returns a thread's unspent credit to the balance (clamped to the capacity, as a refill would
   * be) and moves the lease to the current generation. Credit of an older generation was leased
   * under other limits; it is returned, never spent.
   */
  private void giveBack(Lease lease) {
    if (lease == null) {
      return;
    }
    double c = lease.credit;
    lease.credit = 0;
    lease.generation = leaseGeneration;
    if (c > 0) {
      tokens = Math.min(capacity, tokens + c);
      forgetForgivenWhenFull();
    }
  }

  /** Credit the threads hold now (a racy sum of other threads' fields: for display and tests). */
  private double leased() {
    double[] sum = {0};
    long gen = leaseGeneration;
    leases.forEach(l -> {
      if (l.generation == gen) {
        sum[0] += l.credit;
      }
    });
    return sum[0];
  }

  private void take(double cost) {
    double t = tokens - cost;
    if (t < -maxDebt) {
      forgiven += -maxDebt - t;
      t = -maxDebt;
    }
    tokens = t;
  }

  /** A full bucket owes nothing: forgiven charges no longer offset refunds. */
  private void forgetForgivenWhenFull() {
    if (tokens >= capacity) {
      forgiven = 0;
    }
  }

  /**
   * Current balance (may be negative: debt and queue reservations), counting the credit threads
   * hold (see the class comment).
   */
  public synchronized double tokens() {
    refill();
    return Math.min(capacity, tokens + leased()) - reserved;
  }

  /** The settled balance alone (never below {@code -maxDebt}), without queue reservations. */
  public synchronized double settled() {
    refill();
    return Math.min(capacity, tokens + leased());
  }

  /** Queue reservations the refill has not paid for yet (never negative). */
  public synchronized double reserved() {
    refill();
    return reserved;
  }

  public synchronized double ratePerSec() {
    return ratePerSec;
  }

  public synchronized double capacity() {
    return capacity;
  }

  private long nanosFor(double deficit) {
    double nanos = deficit / ratePerSec * 1e9;
    return nanos >= Long.MAX_VALUE / 2.0 ? Long.MAX_VALUE / 2 : (long) Math.ceil(nanos);
  }

  private void refill() {
    refill(clock.nanoTime());
  }

  private void refill(long now) {
    long elapsed = now - lastRefillNanos;
    if (elapsed <= 0) {
      return;
    }
    lastRefillNanos = now;
    double added = ratePerSec * elapsed / 1e9;
    double paid = Math.min(reserved, added);
    reserved -= paid;
    tokens = Math.min(capacity, tokens + added - paid);
    forgetForgivenWhenFull();
  }

  private double clamp(double t) {
    return Math.max(-maxDebt, Math.min(capacity, t));
  }
}

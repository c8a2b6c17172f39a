package io.mproxy.core.admission;

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
  public synchronized long acquire(double cost, long maxWaitNanos, long nowNanos) {
    refill(nowNanos);
    double needed = Math.min(cost, capacity);
    double balance = tokens - reserved;
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
  public synchronized void settle(double delta, long nowNanos) {
    refill(nowNanos);
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

  /** Current balance (may be negative: debt and queue reservations). */
  public synchronized double tokens() {
    refill();
    return tokens - reserved;
  }

  /** The settled balance alone (never below {@code -maxDebt}), without queue reservations. */
  public synchronized double settled() {
    refill();
    return tokens;
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

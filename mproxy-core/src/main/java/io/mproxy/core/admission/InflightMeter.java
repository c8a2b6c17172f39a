package io.mproxy.core.admission;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Meters the latency of a group's requests while they are in flight, exactly and in O(1) per
 * request: each tick charges every in-flight request for the time it actually spent in flight
 * since the previous tick (or since it started, if it started after it), and on completion a
 * request learns how much the ticks already charged for it, to settle only the rest.
 *
 * <p>It keeps two aggregates: the summed latency weight of requests that were already in flight
 * at the last tick, and for requests started since, their summed weight and summed
 * {@code weight × (start − lastTick)}. A tick then charges
 * {@code old × Δt + new × Δt − Σ w·offset} and folds the new requests into the old.
 *
 * <p>Its own lock guards it: a compare-and-set to take it and a release store to give it back,
 * where a monitor costs a compare-and-set each way. A meter belongs to the thread that starts its
 * requests ({@link ResourceGroup}), so the lock is almost always free: the ticker takes it once per
 * tick, and a request ending on another thread than it started on takes it there. What it guards
 * is a few arithmetic operations, never a call out, so a waiter spins briefly and then yields.
 */
final class InflightMeter {

  private static final VarHandle LOCK;
  /** Spins before a waiter starts yielding its core to the holder (which may have been preempted). */
  private static final int SPINS = 64;

  static {
    try {
      LOCK = MethodHandles.lookup().findVarHandle(InflightMeter.class, "locked", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // through LOCK
  private volatile int locked;

  private static final double NANOS_PER_MS = 1e6;

  private double oldWeight;
  private double newWeight;
  private double newWeightedOffsetMs;
  private long lastTickNanos;
  private long tickSeq;
  private int inflight;

  /** No clock reading yet: the first start or tick sets it. */
  private static final long UNSET = Long.MIN_VALUE;

  InflightMeter(long nowNanos) {
    this.lastTickNanos = nowNanos;
  }

  /** A meter whose time starts at its first {@link #start} or {@link #tick} (it reads no clock itself). */
  InflightMeter() {
    this(UNSET);
  }

  /** A request with latency weight {@code w} started at {@code nowNanos}; returns its start tick. */
  long start(double w, long nowNanos) {
    lock();
    try {
      return startLocked(w, nowNanos);
    } finally {
      unlock();
    }
  }

  private long startLocked(double w, long nowNanos) {
    if (lastTickNanos == UNSET) {
      lastTickNanos = nowNanos;
    }
    inflight++;
    if (w > 0) {
      newWeight += w;
      newWeightedOffsetMs += w * Math.max(0, nowNanos - lastTickNanos) / NANOS_PER_MS;
    }
    return tickSeq;
  }

  /**
   * The request that {@link #start} returned {@code startSeq} for has ended; returns the RU the
   * ticks have charged for it so far.
   */
  double end(double w, long startNanos, long startSeq) {
    lock();
    try {
      return endLocked(w, startNanos, startSeq);
    } finally {
      unlock();
    }
  }

  private double endLocked(double w, long startNanos, long startSeq) {
    inflight--;
    double charged = 0;
    if (w > 0) {
      if (startSeq == tickSeq) {
        newWeight -= w;
        newWeightedOffsetMs -= w * Math.max(0, startNanos - lastTickNanos) / NANOS_PER_MS;
      } else {
        oldWeight -= w;
        charged = w * Math.max(0, lastTickNanos - startNanos) / NANOS_PER_MS;
      }
    }
    if (inflight == 0) {
      oldWeight = 0;
      newWeight = 0;
      newWeightedOffsetMs = 0;
    }
    return charged;
  }

  /** Charges the time since the last tick for everything in flight; returns the RU to charge. */
  double tick(long nowNanos) {
    lock();
    try {
      return tickLocked(nowNanos);
    } finally {
      unlock();
    }
  }

  private double tickLocked(long nowNanos) {
    if (lastTickNanos == UNSET) {
      lastTickNanos = nowNanos;
    }
    double elapsedMs = Math.max(0, nowNanos - lastTickNanos) / NANOS_PER_MS;
    double charge = (oldWeight + newWeight) * elapsedMs - newWeightedOffsetMs;
    oldWeight += newWeight;
    newWeight = 0;
    newWeightedOffsetMs = 0;
    lastTickNanos = nowNanos;
    tickSeq++;
    return Math.max(0, charge);
  }

  int inflight() {
    lock();
    try {
      return inflight;
    } finally {
      unlock();
    }
  }

  private void lock() {
    if (!LOCK.compareAndSet(this, 0, 1)) {
      contended();
    }
  }

  private void contended() {
    int spins = 0;
    while (!LOCK.compareAndSet(this, 0, 1)) {
      if (++spins < SPINS) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
  }

  private void unlock() {
    LOCK.setRelease(this, 0);
  }
}

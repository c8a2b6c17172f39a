package io.mproxy.core.admission;

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
 */
final class InflightMeter {

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
  synchronized long start(double w, long nowNanos) {
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
  synchronized double end(double w, long startNanos, long startSeq) {
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
  synchronized double tick(long nowNanos) {
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

  synchronized int inflight() {
    return inflight;
  }
}

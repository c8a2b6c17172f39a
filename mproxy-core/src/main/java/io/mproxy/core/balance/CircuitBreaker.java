package io.mproxy.core.balance;

import io.mproxy.core.config.CircuitConfig;
import io.mproxy.core.time.Clock;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One backend's circuit breaker: an explicit state machine over a sliding window of request
 * outcomes. CLOSED counts outcomes in {@value #BUCKETS} time buckets spanning {@code window_ms};
 * once the window holds {@code min_requests} and the failing share (errors, plus requests slower
 * than {@code latency_ms}) reaches {@code error_rate}, it opens. OPEN refuses until
 * {@code open_ms} have passed, then turns HALF_OPEN, which lets at most {@code half_open_probes}
 * requests through at once: a probe that succeeds closes the circuit (with an empty window), one
 * that fails opens it again for another {@code open_ms}.
 *
 * <p>Why: health probes only see whether a connection opens. A backend that accepts connections
 * but fails or stalls its queries keeps drawing traffic (and retries) until something counts
 * what its requests actually did. Time comes from the injected {@link Clock}; nothing sleeps.
 *
 * <p>In {@code shadow} mode the state machine runs the same, {@link #allows()} always answers
 * true and every would-open is counted. Thread-safe (one monitor per backend).
 */
public final class CircuitBreaker {

  /** The breaker's state; {@link #code()} is the value of {@code mproxy_backend_circuit_state}. */
  public enum State {
    CLOSED(0), HALF_OPEN(1), OPEN(2);

    private final int code;

    State(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  static final int BUCKETS = 10;

  private final Clock clock;
  private final CircuitConfig config;
  private final long bucketNanos;
  private final long openNanos;
  private final long slowNanos;
  private final long[] total = new long[BUCKETS];
  private final long[] failed = new long[BUCKETS];
  /** The absolute bucket number (time / bucketNanos) the ring was last advanced to. */
  private long head;
  private State state = State.CLOSED;
  private long openedAt;
  private long halfOpenedAt;
  private int probesOut;
  private long opened;
  private long wouldOpen;

  public CircuitBreaker(CircuitConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.bucketNanos = Math.max(1, TimeUnit.MILLISECONDS.toNanos(config.windowMs()) / BUCKETS);
    this.openNanos = TimeUnit.MILLISECONDS.toNanos(config.openMs());
    this.slowNanos = config.latencyMs() > 0 ? TimeUnit.MILLISECONDS.toNanos(config.latencyMs()) : Long.MAX_VALUE;
    this.head = clock.nanoTime() / bucketNanos;
  }

  public CircuitConfig config() {
    return config;
  }

  /** The current state (an OPEN circuit whose cool-off has passed reads as HALF_OPEN). */
  public synchronized State state() {
    advance(clock.nanoTime());
    return state;
  }

  /**
   * Whether the balancer may pick this backend now, without taking a probe slot: always in
   * shadow mode; in enforce mode when closed, or half-open with a probe slot free.
   */
  public synchronized boolean allows() {
    advance(clock.nanoTime());
    if (!config.enforced()) {
      return true;
    }
    return state == State.CLOSED || state == State.HALF_OPEN && probesOut < config.halfOpenProbes();
  }

  /**
   * The balancer picked this backend: when half-open, the request is a probe and takes a slot.
   * Returns false when it may not go (enforce mode, open or no probe slot left).
   */
  public synchronized boolean tryRequest() {
    advance(clock.nanoTime());
    switch (state) {
      case CLOSED:
        return true;
      case HALF_OPEN:
        if (probesOut < config.halfOpenProbes()) {
          probesOut++;
          return true;
        }
        return !config.enforced();
      case OPEN:
      default:
        return !config.enforced();
    }
  }

  /** A request to the backend completed; it failed when {@code error} or slower than latency_ms. */
  public void onResult(boolean error, long latencyNanos) {
    onResult(error, latencyNanos, clock.nanoTime());
  }

  /** {@link #onResult(boolean, long)} at {@code now}, the caller's clock reading. */
  public synchronized void onResult(boolean error, long latencyNanos, long now) {
    boolean failure = error || latencyNanos > slowNanos;
    advance(now);
    switch (state) {
      case CLOSED -> {
        int b = (int) Math.floorMod(head, (long) BUCKETS);
        total[b]++;
        if (failure) {
          failed[b]++;
          judge(now);
        }
      }
      case HALF_OPEN -> {
        probesOut = Math.max(0, probesOut - 1);
        if (failure) {
          open(now);
        } else {
          close(now);
        }
      }
      case OPEN -> {
        // a request dispatched before the circuit opened: its outcome is old news
      }
    }
  }

  /** The backend refused or dropped a connection: a failure with no latency to judge. */
  public void onConnectFailure() {
    onResult(true, 0);
  }

  /** Times the circuit opened (in shadow mode: would have opened). */
  public synchronized long opened() {
    return opened;
  }

  /** Times a shadow-mode circuit would have opened; 0 in enforce mode. */
  public synchronized long wouldOpen() {
    return wouldOpen;
  }

  /** Nanoseconds until an open circuit turns half-open; 0 when it is not open. */
  public synchronized long remainingOpenNanos() {
    long now = clock.nanoTime();
    advance(now);
    return state == State.OPEN ? Math.max(0, openedAt + openNanos - now) : 0;
  }

  /** Requests and failures in the current window (for status and tests). */
  public synchronized long[] window() {
    advance(clock.nanoTime());
    long t = 0;
    long f = 0;
    for (int i = 0; i < BUCKETS; i++) {
      t += total[i];
      f += failed[i];
    }
    return new long[] {t, f};
  }

  private void judge(long now) {
    long t = 0;
    long f = 0;
    for (int i = 0; i < BUCKETS; i++) {
      t += total[i];
      f += failed[i];
    }
    if (t >= config.minRequests() && f >= config.errorRate() * t) {
      open(now);
    }
  }

  private void open(long now) {
    state = State.OPEN;
    openedAt = now;
    probesOut = 0;
    opened++;
    if (!config.enforced()) {
      wouldOpen++;
    }
    clear();
  }

  private void close(long now) {
    state = State.CLOSED;
    probesOut = 0;
    head = now / bucketNanos;
    clear();
  }

  /** Rolls the window forward to {@code now} and moves OPEN to HALF_OPEN once the cool-off passed. */
  private void advance(long now) {
    long bucket = now / bucketNanos;
    long steps = bucket - head;
    if (steps > 0) {
      if (steps >= BUCKETS) {
        clear();
      } else {
        for (long s = 1; s <= steps; s++) {
          int b = (int) Math.floorMod(head + s, (long) BUCKETS);
          total[b] = 0;
          failed[b] = 0;
        }
      }
      head = bucket;
    }
    if (state == State.OPEN && now - openedAt >= openNanos) {
      state = State.HALF_OPEN;
      halfOpenedAt = now;
      probesOut = 0;
    } else if (state == State.HALF_OPEN && probesOut > 0 && now - halfOpenedAt >= openNanos) {
      // probes that never reported (their request ended before reaching the backend): free the slots
      halfOpenedAt = now;
      probesOut = 0;
    }
  }

  private void clear() {
    java.util.Arrays.fill(total, 0);
    java.util.Arrays.fill(failed, 0);
  }
}

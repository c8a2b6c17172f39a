package io.mproxy.core.balance;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One backend server as the balancer sees it: health (with exponential back-off while it is
 * down), requests in flight, peak-EWMA latency and recent RU rate.
 */
public final class Backend {

  /** Health as last observed. */
  public enum Health { UP, DOWN }

  private static final long EWMA_TAU_NANOS = 10_000_000_000L;
  /** How much newer an answer must be than the recorded one to be written (see answeredSince). */
  private static final long ANSWERED_GRAIN_NANOS = 1_000_000L;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  /** Indexes of a thread's tally. */
  private static final int INFLIGHT = 0;
  private static final int COMPLETED = 1;

  private final String id;
  private final BackendConfig config;
  private final Clock clock;
  /**
   * Requests started and ended, per recording thread: each event loop writes only its own cells
   * (a request may start on one loop and end on another, so one cell can go negative), and the
   * balancer sums them. Every loop used to write one shared atomic and one adder per request.
   */
  private final PerThread<long[]> tallies = new PerThread<>(() -> new long[2]);
  private final PeakEwma latency = new PeakEwma(EWMA_TAU_NANOS);
  private final PeakEwma ruRate = new PeakEwma(EWMA_TAU_NANOS);
  /**
   * Whether {@link #ruRate} is fed. Only the {@code ru_rate} balancer score reads it, and each
   * feed is two compare-and-sets on a line every event loop writes (1.5 % of the event loops' time
   * with pipelined Redis), so a cluster scoring otherwise turns it off ({@link #trackRuRate}).
   */
  private volatile boolean ruRateTracked = true;
  private volatile Health health = Health.UP;
  private volatile int consecutiveFailures;
  private volatile long retryAtNanos;
  private volatile String lastError;
  private volatile CircuitBreaker circuit;
  /**
   * When a request last ended on this backend with an answer (not an error), clock nanos, to
   * within {@link #ANSWERED_GRAIN_NANOS}: written only when it moves by more, so the event loops
   * do not take turns writing it for every request.
   */
  private volatile long lastAnsweredNanos = Long.MIN_VALUE;

  public Backend(BackendConfig config, Clock clock) {
    this.id = config.address().toString();
    this.config = config;
    this.clock = clock;
  }

  public String id() {
    return id;
  }

  public BackendConfig config() {
    return config;
  }

  public Health health() {
    return health;
  }

  public boolean healthy() {
    return health == Health.UP;
  }

  /** Requests started and not yet ended (0 or more; a moment's view across the event loops). */
  public int inflight() {
    return (int) Math.max(0, tallies.sum(Backend::inflightOf));
  }

  private static long inflightOf(long[] t) {
    return (long) LONGS.getAcquire(t, INFLIGHT);
  }

  private static long completedOf(long[] t) {
    return (long) LONGS.getAcquire(t, COMPLETED);
  }

  private static void add(long[] t, int i, long delta) {
    LONGS.setRelease(t, i, t[i] + delta);
  }

  /**
   * Whether a request ended with an answer from this backend after {@code sinceNanos} (answers
   * in the first millisecond after it may not count): the backend is alive whatever a probe says
   * (a probe that timed out meanwhile only met a busy machine).
   */
  public boolean answeredSince(long sinceNanos) {
    return lastAnsweredNanos - sinceNanos > 0 && lastAnsweredNanos != Long.MIN_VALUE;
  }

  public long completed() {
    return tallies.sum(Backend::completedOf);
  }

  public String lastError() {
    return lastError;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  public double latencyEwmaNanos() {
    return latency.valueNanos();
  }

  /** When a down backend may next be tried (clock nanos). */
  public long retryAtNanos() {
    return retryAtNanos;
  }

  public void started() {
    add(tallies.get(), INFLIGHT, 1);
  }

  public void finished(long latencyNanos, double ru) {
    finished(latencyNanos, ru, false);
  }

  /** A request ended on this backend; {@code error} and its latency feed the circuit breaker. */
  public void finished(long latencyNanos, double ru, boolean error) {
    finished(latencyNanos, ru, error, clock.nanoTime());
  }

  /**
   * {@link #finished(long, double, boolean)} at {@code nowNanos}, the clock reading the caller
   * took when the request ended (a ticket reads the clock once to settle). Lock-free: backends
   * are shared by every event loop.
   */
  public void finished(long latencyNanos, double ru, boolean error, long nowNanos) {
    CircuitBreaker c = circuit;
    if (c != null) {
      c.onResult(error, latencyNanos, nowNanos);
    }
    long[] t = tallies.get();
    add(t, INFLIGHT, -1);
    add(t, COMPLETED, 1);
    if (!error) {
      long last = lastAnsweredNanos;
      if (last == Long.MIN_VALUE || nowNanos - last > ANSWERED_GRAIN_NANOS) {
        lastAnsweredNanos = nowNanos;
      }
    }
    latency.observe(latencyNanos, nowNanos);
    if (ruRateTracked) {
      ruRate.observe((long) (ru * 1000), nowNanos);
    }
  }

  /**
   * Whether requests ending here feed the RU-rate average (on by default; the {@code ru_rate}
   * score needs it). Turned back on, it continues from the value it had.
   */
  public void trackRuRate(boolean on) {
    ruRateTracked = on;
  }

  /** Balancer score: lower is better. */
  public double score(io.mproxy.core.config.BalancerConfig.Score kind) {
    int n = inflight();
    switch (kind) {
      case PEAK_EWMA: {
        double l = latency.valueNanos();
        return (l <= 0 ? 1 : l) * (n + 1);
      }
      case RU_RATE:
        return ruRate.valueNanos() * (n + 1);
      case LEAST_INFLIGHT:
      default:
        return n;
    }
  }

  /** A connection or probe succeeded: the backend is up and its back-off is reset. */
  public void markUp() {
    consecutiveFailures = 0;
    retryAtNanos = 0;
    lastError = null;
    health = Health.UP;
  }

  /**
   * A connection or probe failed: the backend is taken out and retried after an exponential
   * back-off of {@code baseNanos * 2^(failures-1)}, capped at {@code maxNanos}.
   */
  public void markDown(String error, long baseNanos, long maxNanos) {
    int failures = consecutiveFailures + 1;
    consecutiveFailures = failures;
    long backoff = baseNanos << Math.min(20, failures - 1);
    if (backoff <= 0 || backoff > maxNanos) {
      backoff = maxNanos;
    }
    retryAtNanos = clock.nanoTime() + backoff;
    lastError = error;
    health = Health.DOWN;
    CircuitBreaker c = circuit;
    if (c != null) {
      c.onConnectFailure();
    }
  }

  /**
   * Installs the circuit breaker {@code config} asks for (null: none). An unchanged config keeps
   * the breaker and its state; a changed one starts a fresh, closed breaker.
   */
  public void circuit(io.mproxy.core.config.CircuitConfig config) {
    CircuitBreaker c = circuit;
    if (config == null) {
      circuit = null;
    } else if (c == null || !c.config().equals(config)) {
      circuit = new CircuitBreaker(config, clock);
    }
  }

  /** This backend's circuit breaker, or null when its cluster configures none. */
  public CircuitBreaker circuit() {
    return circuit;
  }

  /** The circuit's state; CLOSED when there is no breaker. */
  public CircuitBreaker.State circuitState() {
    CircuitBreaker c = circuit;
    return c == null ? CircuitBreaker.State.CLOSED : c.state();
  }

  /** Whether the circuit breaker lets the balancer pick this backend (true without one). */
  public boolean circuitAllows() {
    CircuitBreaker c = circuit;
    return c == null || c.allows();
  }

  /** Takes a half-open probe slot when picked; false when the circuit refuses the request. */
  public boolean circuitTryRequest() {
    CircuitBreaker c = circuit;
    return c == null || c.tryRequest();
  }

  /** True when the backend is up, or down with its back-off elapsed (worth one more try). */
  public boolean tryable() {
    return health == Health.UP || clock.nanoTime() >= retryAtNanos;
  }

  @Override
  public String toString() {
    return "Backend[" + id + " " + health + " inflight=" + inflight() + "]";
  }
}

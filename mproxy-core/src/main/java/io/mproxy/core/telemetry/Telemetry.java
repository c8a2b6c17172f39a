package io.mproxy.core.telemetry;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;

/**
 * Where core reports what happened. The server implements it with Micrometer (the metric names
 * of CONTRACT.md); the simulator implements it with plain counters. Implementations must be
 * cheap and thread-safe: they are called on event loops for every request.
 */
public interface Telemetry {

  /** A request ended; {@code mproxy_requests_total} and {@code mproxy_request_duration_seconds}. */
  void requestCompleted(String listener, String protocol, String group, Outcome outcome, long durationNanos);

  /** RU charged to a group ({@code mproxy_ru_total}); kind is {@code read} or {@code write}. */
  void ruCharged(String group, boolean write, double ru);

  /**
   * A completed request's final RU with who asked and what (cost attribution: the server's
   * {@code /api/usage}). Called only when {@code ru > 0}; ignored unless overridden.
   */
  default void requestCharged(TenantIdentity tenant, String group, String fingerprint, double ru) {
  }

  /**
   * A request ended (answered or refused), with what an access log line or a trace span needs:
   * the request (tenant, kind, fingerprint, arrival time), its group, outcome, final RU (0 when
   * refused) and the {@code Clock.nanoTime()} of its end. Called after {@link #requestCompleted}
   * for the same request; ignored unless overridden, so telemetry without tracing pays nothing.
   */
  default void requestEnded(Request request, String listener, String protocol, String group,
      Outcome outcome, double ru, long endNanos) {
  }

  /** A request refused before it reached a backend ({@code mproxy_shed_total}). */
  void shed(String group, Priority priority, ShedReason reason);

  /** Time a request waited for admission ({@code mproxy_queue_wait_seconds}). */
  void queueWait(String group, Priority priority, long nanos);

  /**
   * A shadow-mode group or rule let a request through that enforcement would have refused
   * ({@code mproxy_would_shed_total{group,priority,reason}}: reason {@code codel} is a would-shed,
   * any other a would-reject). Default: not reported.
   */
  default void wouldShed(String group, Priority priority, ShedReason reason) {
  }

  /**
   * A runaway rule acted, or in shadow mode would have ({@code mproxy_runaway_actions_total
   * {rule,action,mode}}). Default: not reported.
   */
  default void runawayAction(String rule, String action, String mode) {
  }

  /**
   * A request carried a hint ({@code mproxy_hints_total{result}}; result {@code applied} or
   * {@code ignored}). Default: not reported.
   */
  default void hint(String group, String result) {
  }

  /** A hinted per-query timeout ended a request ({@code mproxy_requests_total{outcome=timeout}} is separate). */
  default void hintTimeout(String group) {
  }

  Telemetry NOOP = new Telemetry() {
    @Override
    public void requestCompleted(String l, String p, String g, Outcome o, long d) {
    }

    @Override
    public void ruCharged(String g, boolean w, double ru) {
    }

    @Override
    public void shed(String g, Priority p, ShedReason r) {
    }

    @Override
    public void queueWait(String g, Priority p, long n) {
    }
  };
}

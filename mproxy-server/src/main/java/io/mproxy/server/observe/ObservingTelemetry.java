package io.mproxy.server.observe;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.RandomSource;
import io.mproxy.server.config.ObservabilityConfig.Logging;

/**
 * Passes every event to the metrics telemetry (every {@link Telemetry} method must be forwarded
 * here: {@code ObservingTelemetryTest} checks that none is left to its default) and, per ended request, writes the sampled access
 * log line and hands the sampled span to the tracer. With the access log off and no tracer the
 * extra cost per request is two volatile reads; sampling draws from the injected
 * {@link RandomSource}, once per enabled sink.
 */
public final class ObservingTelemetry implements Telemetry {

  private final Telemetry delegate;
  private final RandomSource random;
  private volatile double accessRatio;
  private volatile RequestTracer tracer;

  public ObservingTelemetry(Telemetry delegate, RandomSource random) {
    this.delegate = delegate;
    this.random = random;
  }

  /** Production randomness: a thread-local generator per event loop. */
  public static RandomSource threadLocalRandom() {
    return new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return java.util.concurrent.ThreadLocalRandom.current().nextInt(bound);
      }

      @Override
      public double nextDouble() {
        return java.util.concurrent.ThreadLocalRandom.current().nextDouble();
      }
    };
  }

  /** The access-log part of the {@code logging:} section (applied on start and reload). */
  public void accessLog(Logging logging) {
    this.accessRatio = logging.accessLog() ? logging.accessSampleRatio() : 0;
  }

  /** Installs (or, with null, removes) the tracer. */
  public void tracer(RequestTracer t) {
    this.tracer = t;
  }

  @Override
  public void requestEnded(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos) {
    delegate.requestEnded(request, listener, protocol, group, outcome, ru, endNanos);
    double ratio = accessRatio;
    if (ratio > 0 && sampled(ratio) && AccessLog.enabled()) {
      AccessLog.log(request, listener, protocol, group, outcome, ru, endNanos);
    }
    RequestTracer t = tracer;
    if (t != null && sampled(t.sampleRatio())) {
      t.ended(request, listener, protocol, group, outcome, ru, endNanos);
    }
  }

  private boolean sampled(double ratio) {
    return ratio >= 1 || (ratio > 0 && random.nextDouble() < ratio);
  }

  @Override
  public void requestCompleted(String listener, String protocol, String group, Outcome outcome, long durationNanos) {
    delegate.requestCompleted(listener, protocol, group, outcome, durationNanos);
  }

  @Override
  public void ruCharged(String group, boolean write, double ru) {
    delegate.ruCharged(group, write, ru);
  }

  @Override
  public void requestCharged(TenantIdentity tenant, String group, String fingerprint, double ru) {
    delegate.requestCharged(tenant, group, fingerprint, ru);
  }

  @Override
  public void shed(String group, Priority priority, ShedReason reason) {
    delegate.shed(group, priority, reason);
  }

  @Override
  public void queueWait(String group, Priority priority, long nanos) {
    delegate.queueWait(group, priority, nanos);
  }

  @Override
  public void wouldShed(String group, Priority priority, ShedReason reason) {
    delegate.wouldShed(group, priority, reason);
  }

  @Override
  public void runawayAction(String rule, String action, String mode) {
    delegate.runawayAction(rule, action, mode);
  }

  @Override
  public void hint(String group, String result) {
    delegate.hint(group, result);
  }

  @Override
  public void hintTimeout(String group) {
    delegate.hintTimeout(group);
  }
}

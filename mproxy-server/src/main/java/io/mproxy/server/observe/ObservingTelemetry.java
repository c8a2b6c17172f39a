package io.mproxy.server.observe;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.telemetry.ForwardingTelemetry;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.RandomSource;
import io.mproxy.server.config.ObservabilityConfig.Logging;

/**
 * Passes every event on ({@link ForwardingTelemetry}) and, per ended request, writes the sampled
 * access log line and hands the sampled span to the tracer. With the access log off and no tracer the
 * extra cost per request is two volatile reads; sampling draws from the injected
 * {@link RandomSource}, once per enabled sink.
 */
public final class ObservingTelemetry extends ForwardingTelemetry {

  private final RandomSource random;
  private volatile double accessRatio;
  private volatile RequestTracer tracer;

  public ObservingTelemetry(Telemetry delegate, RandomSource random) {
    super(delegate);
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
    super.requestEnded(request, listener, protocol, group, outcome, ru, endNanos);
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
}

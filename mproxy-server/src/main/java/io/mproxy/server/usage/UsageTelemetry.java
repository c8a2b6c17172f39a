package io.mproxy.server.usage;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.telemetry.ForwardingTelemetry;
import io.mproxy.core.telemetry.Telemetry;

/**
 * Passes everything on and also feeds each request's final RU to a {@link UsageMeter}, with the
 * end time the gateway already read (so the meter reads the wall clock about once a second per
 * thread, not once per request).
 */
public final class UsageTelemetry extends ForwardingTelemetry {

  private final UsageMeter usage;

  public UsageTelemetry(Telemetry delegate, UsageMeter usage) {
    super(delegate);
    this.usage = usage;
  }

  @Override
  public void requestEnded(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos) {
    super.requestEnded(request, listener, protocol, group, outcome, ru, endNanos);
    usage.record(request.tenant(), group, request.fingerprint(), ru, endNanos);
  }
}

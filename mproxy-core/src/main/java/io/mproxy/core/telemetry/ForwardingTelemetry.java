package io.mproxy.core.telemetry;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;

/**
 * A {@link Telemetry} that passes every call to another: decorators extend it and override only
 * what they add, so a method added to {@link Telemetry} later cannot be silently dropped by one of
 * them (it must be forwarded here, once).
 */
public abstract class ForwardingTelemetry implements Telemetry {

  private final Telemetry delegate;

  protected ForwardingTelemetry(Telemetry delegate) {
    this.delegate = delegate;
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
  public void requestEnded(Request request, String listener, String protocol, String group, Outcome outcome,
      double ru, long endNanos) {
    delegate.requestEnded(request, listener, protocol, group, outcome, ru, endNanos);
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

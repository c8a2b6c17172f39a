package io.mproxy.server.usage;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.Telemetry;

/** Passes everything to the metrics telemetry and also feeds each request's final RU to a {@link UsageMeter}. */
public final class UsageTelemetry implements Telemetry {

  private final Telemetry delegate;
  private final UsageMeter usage;

  public UsageTelemetry(Telemetry delegate, UsageMeter usage) {
    this.delegate = delegate;
    this.usage = usage;
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
    usage.record(tenant, group, fingerprint, ru);
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

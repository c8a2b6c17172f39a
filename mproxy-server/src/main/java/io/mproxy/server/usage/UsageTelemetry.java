package io.mproxy.server.usage;

import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.ForwardingTelemetry;
import io.mproxy.core.telemetry.Telemetry;

/** Passes everything on and also feeds each request's final RU to a {@link UsageMeter}. */
public final class UsageTelemetry extends ForwardingTelemetry {

  private final UsageMeter usage;

  public UsageTelemetry(Telemetry delegate, UsageMeter usage) {
    super(delegate);
    this.usage = usage;
  }

  @Override
  public void requestCharged(TenantIdentity tenant, String group, String fingerprint, double ru) {
    super.requestCharged(tenant, group, fingerprint, ru);
    usage.record(tenant, group, fingerprint, ru);
  }
}

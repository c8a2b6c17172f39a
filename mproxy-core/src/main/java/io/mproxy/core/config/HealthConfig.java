package io.mproxy.core.config;

/**
 * Active health checks per backend; a failed backend is retried with exponential back-off
 * from {@code retryBaseMs} up to {@code retryMaxMs}.
 */
public record HealthConfig(long intervalMs, long timeoutMs, long retryBaseMs, long retryMaxMs) {

  public static final HealthConfig DEFAULT = new HealthConfig(2_000, 1_000, 250, 10_000);
}

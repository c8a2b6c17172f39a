package io.mproxy.server.otel;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import io.mproxy.server.config.ObservabilityConfig.Otlp;
import java.time.Duration;
import java.util.Map;

/**
 * Pushes the same Micrometer meters the admin API serves to Prometheus over OTLP/HTTP
 * ({@code /v1/metrics}, cumulative temporality), every {@code interval_ms}. The meters are
 * registered once, in a composite of the Prometheus registry and this one, so both see identical
 * names and labels (OTLP names are the Micrometer names: {@code mproxy_requests} and so on).
 */
public final class OtlpMetrics implements AutoCloseable {

  private final OtlpMeterRegistry otlp;
  private final CompositeMeterRegistry composite;

  private OtlpMetrics(OtlpMeterRegistry otlp, CompositeMeterRegistry composite) {
    this.otlp = otlp;
    this.composite = composite;
  }

  /** A composite of {@code scrape} and a new OTLP registry pushing to {@code config}'s endpoint. */
  public static OtlpMetrics start(Otlp config, MeterRegistry scrape, String version) {
    String url = config.signal("/v1/metrics").toString();
    Duration step = Duration.ofMillis(config.metricsIntervalMillis());
    Map<String, String> resource = Map.of("service.name", config.serviceName(), "service.version", version);
    Duration timeout = Duration.ofMillis(config.timeoutMillis());
    OtlpConfig otlpConfig = new OtlpConfig() {
      @Override
      public String get(String key) {
        return null;
      }

      @Override
      public String url() {
        return url;
      }

      @Override
      public Duration step() {
        return step;
      }

      @Override
      public Duration readTimeout() {
        return timeout;
      }

      @Override
      public Map<String, String> resourceAttributes() {
        return resource;
      }
    };
    OtlpMeterRegistry otlp = new OtlpMeterRegistry(otlpConfig, Clock.SYSTEM);
    CompositeMeterRegistry composite = new CompositeMeterRegistry(Clock.SYSTEM);
    composite.add(scrape);
    composite.add(otlp);
    return new OtlpMetrics(otlp, composite);
  }

  /** Where meters are registered: both the scrape registry and the OTLP one. */
  public MeterRegistry registry() {
    return composite;
  }

  /** Pushes once more and stops. */
  @Override
  public void close() {
    otlp.close();
  }
}

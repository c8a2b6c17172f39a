package io.mproxy.server.config;

import java.net.URI;
import java.util.Optional;

/**
 * The server-only operator settings of the top-level {@code logging:} and {@code telemetry:}
 * sections. They shape what the daemon emits about requests, never how requests are handled,
 * so they live beside the core {@code ProxyConfig} instead of inside it.
 *
 * @param logging log format and level, and the access log; absent = the packaged logback.xml as is
 * @param otlp OpenTelemetry export; absent = off, and no OpenTelemetry object is ever created
 */
public record ObservabilityConfig(Optional<Logging> logging, Optional<Otlp> otlp) {

  public static final ObservabilityConfig DEFAULT = new ObservabilityConfig(Optional.empty(), Optional.empty());

  public ObservabilityConfig {
    logging = logging == null ? Optional.empty() : logging;
    otlp = otlp == null ? Optional.empty() : otlp;
  }

  /** Text or JSON lines on standard error. */
  public enum LogFormat { TEXT, JSON }

  /** The level of mproxy's own loggers ({@code io.mproxy.*}). */
  public enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR }

  /**
   * @param accessLog whether each request is logged on the {@code mproxy.access} logger
   * @param accessSampleRatio the fraction of requests logged there, in [0, 1]
   */
  public record Logging(LogFormat format, LogLevel level, boolean accessLog, double accessSampleRatio) {
    public static final Logging DEFAULT = new Logging(LogFormat.TEXT, LogLevel.INFO, false, 1.0);
  }

  /**
   * OTLP/HTTP (protobuf) export to a collector.
   *
   * @param endpoint the collector's base URL; signals go to {@code /v1/traces} and {@code /v1/metrics}
   * @param serviceName the {@code service.name} resource attribute
   * @param timeoutMillis per export request
   * @param traces whether spans are exported
   * @param traceSampleRatio the fraction of requests that get a span, in [0, 1]
   * @param metrics whether the Prometheus meters are also pushed
   * @param metricsIntervalMillis how often meters are pushed
   */
  public record Otlp(URI endpoint, String serviceName, long timeoutMillis, boolean traces,
      double traceSampleRatio, boolean metrics, long metricsIntervalMillis) {

    public URI signal(String path) {
      String base = endpoint.toString();
      return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
    }
  }
}

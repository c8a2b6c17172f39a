package io.mproxy.server.config;

import io.mproxy.server.config.ObservabilityConfig.LogFormat;
import io.mproxy.server.config.ObservabilityConfig.LogLevel;
import io.mproxy.server.config.ObservabilityConfig.Logging;
import io.mproxy.server.config.ObservabilityConfig.Otlp;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Optional;

/**
 * Binds the optional top-level {@code logging:} and {@code telemetry:} sections.
 *
 * <pre>
 * logging:
 *   format: json                 # text | json; default text
 *   level: info                  # trace | debug | info | warn | error (io.mproxy loggers)
 *   access_log: { enabled: true, sample_ratio: 0.1 }
 * telemetry:
 *   otlp:
 *     endpoint: http://127.0.0.1:4318   # required
 *     protocol: http/protobuf           # the only one
 *     service_name: mproxy
 *     timeout_ms: 10000
 *     traces: { enabled: true, sample_ratio: 0.01 }
 *     metrics: { enabled: true, interval_ms: 10000 }
 * </pre>
 */
final class ObservabilityBinder {

  static final String LOGGING = "logging";
  static final String TELEMETRY = "telemetry";
  static final List<String> LOGGING_KEYS = List.of("format", "level", "access_log");
  static final List<String> ACCESS_LOG_KEYS = List.of("enabled", "sample_ratio");
  static final List<String> TELEMETRY_KEYS = List.of("otlp");
  static final List<String> OTLP_KEYS =
      List.of("endpoint", "protocol", "service_name", "timeout_ms", "traces", "metrics");
  static final List<String> TRACES_KEYS = List.of("enabled", "sample_ratio");
  static final List<String> METRICS_KEYS = List.of("enabled", "interval_ms");
  static final double DEFAULT_TRACE_SAMPLE_RATIO = 0.01;
  static final long DEFAULT_METRICS_INTERVAL_MS = 10_000;
  private static final Range RATIO = Range.between(0, 1);

  private ObservabilityBinder() {
  }

  static ObservabilityConfig bind(MapReader top) {
    Optional<Logging> logging = top.section(LOGGING, LOGGING_KEYS).map(ObservabilityBinder::logging);
    Optional<Otlp> otlp = top.section(TELEMETRY, TELEMETRY_KEYS).flatMap(t -> {
      Optional<Otlp> o = t.section("otlp", OTLP_KEYS).flatMap(ObservabilityBinder::otlp);
      t.rejectUnknownKeys();
      return o;
    });
    return new ObservabilityConfig(logging, otlp);
  }

  private static Logging logging(MapReader l) {
    Logging d = Logging.DEFAULT;
    LogFormat format = l.choice("format", LogFormat.class, d.format());
    LogLevel level = l.choice("level", LogLevel.class, d.level());
    boolean access = d.accessLog();
    double ratio = d.accessSampleRatio();
    Optional<MapReader> a = l.section("access_log", ACCESS_LOG_KEYS);
    if (a.isPresent()) {
      access = a.get().bool("enabled", true);
      ratio = a.get().number("sample_ratio", d.accessSampleRatio(), RATIO);
      a.get().rejectUnknownKeys();
    }
    l.rejectUnknownKeys();
    return new Logging(format, level, access, ratio);
  }

  private static Optional<Otlp> otlp(MapReader o) {
    Optional<URI> endpoint = o.requiredString("endpoint", "an http:// or https:// URL").flatMap(text -> {
      try {
        URI uri = new URI(text);
        if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
          return Optional.of(uri);
        }
      } catch (URISyntaxException e) {
        // reported below
      }
      o.report(o.valueMark("endpoint"), "endpoint: '" + text + "' (expected: an http:// or https:// URL)");
      return Optional.empty();
    });
    o.oneOf("protocol", List.of("http/protobuf"));
    String service = o.string("service_name", "mproxy");
    long timeout = o.integer("timeout_ms", 10_000, Range.greaterThan(0));
    boolean traces = true;
    double traceRatio = DEFAULT_TRACE_SAMPLE_RATIO;
    Optional<MapReader> t = o.section("traces", TRACES_KEYS);
    if (t.isPresent()) {
      traces = t.get().bool("enabled", true);
      traceRatio = t.get().number("sample_ratio", DEFAULT_TRACE_SAMPLE_RATIO, RATIO);
      t.get().rejectUnknownKeys();
    }
    boolean metrics = true;
    long interval = DEFAULT_METRICS_INTERVAL_MS;
    Optional<MapReader> m = o.section("metrics", METRICS_KEYS);
    if (m.isPresent()) {
      metrics = m.get().bool("enabled", true);
      interval = m.get().integer("interval_ms", DEFAULT_METRICS_INTERVAL_MS, Range.greaterThan(0));
      m.get().rejectUnknownKeys();
    }
    o.rejectUnknownKeys();
    if (endpoint.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Otlp(endpoint.get(), service, timeout, traces, traceRatio, metrics, interval));
  }
}

package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.config.ObservabilityConfig.LogFormat;
import io.mproxy.server.config.ObservabilityConfig.LogLevel;
import io.mproxy.server.config.ObservabilityConfig.Logging;
import io.mproxy.server.config.ObservabilityConfig.Otlp;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The top-level {@code logging:} and {@code telemetry:} sections. */
class ObservabilityConfigTest {

  private static ObservabilityConfig observability(String yaml) {
    LoadResult r = Configs.LOADER.parse("t.yaml", yaml);
    assertTrue(r.isValid(), () -> "expected valid, got " + r.problems());
    return r.observability();
  }

  @Test
  void absentSectionsMeanTheDefaultsAndNoExport() {
    ObservabilityConfig o = observability("admin: { bind: 127.0.0.1:9901 }\n");
    assertTrue(o.logging().isEmpty());
    assertTrue(o.otlp().isEmpty());
  }

  @Test
  void bindsLogging() {
    Logging l = observability("""
        logging: { format: JSON, level: debug, access_log: { sample_ratio: 0.25 } }
        """).logging().orElseThrow();
    assertEquals(new Logging(LogFormat.JSON, LogLevel.DEBUG, true, 0.25), l);
    assertEquals(Logging.DEFAULT, observability("logging: {}\n").logging().orElseThrow());
  }

  @Test
  void bindsOtlpWithDefaults() {
    Otlp o = observability("telemetry: { otlp: { endpoint: http://127.0.0.1:4318 } }\n").otlp().orElseThrow();
    assertEquals(URI.create("http://127.0.0.1:4318/v1/traces"), o.signal("/v1/traces"));
    assertEquals("mproxy", o.serviceName());
    assertTrue(o.traces());
    assertEquals(0.01, o.traceSampleRatio(), 1e-12);
    assertTrue(o.metrics());
    assertEquals(10_000, o.metricsIntervalMillis());
    Otlp p = observability("""
        telemetry:
          otlp:
            endpoint: https://collector:4318/
            protocol: http/protobuf
            service_name: edge
            timeout_ms: 500
            traces: { sample_ratio: 1 }
            metrics: { enabled: false, interval_ms: 1000 }
        """).otlp().orElseThrow();
    assertEquals(URI.create("https://collector:4318/v1/metrics"), p.signal("/v1/metrics"));
    assertEquals(1.0, p.traceSampleRatio(), 1e-12);
    assertFalse(p.metrics());
    assertEquals(500, p.timeoutMillis());
  }

  @Test
  void reportsEveryBadValue() {
    List<String> problems = Configs.problems("""
        logging: { format: xml, access_log: { sample_ratio: 1.5, verbose: true } }
        telemetry:
          otlp: { endpoint: "ftp://x", protocol: grpc, traces: { sample_ratio: -1 }, metrics: { interval_ms: 0 } }
        """);
    String all = String.join("\n", problems);
    assertTrue(all.contains("format"), all);
    assertTrue(all.contains("sample_ratio: 1.5 (expected: 0..1)"), all);
    assertTrue(all.contains("unknown key 'verbose'"), all);
    assertTrue(all.contains("endpoint: 'ftp://x' (expected: an http:// or https:// URL)"), all);
    assertTrue(all.contains("protocol"), all);
    assertTrue(all.contains("sample_ratio: -1"), all);
    assertTrue(all.contains("interval_ms: 0"), all);
    assertEquals(7, problems.size(), all);
    assertTrue(String.join("\n", Configs.problems("telemetry: { otlp: {} }\n")).contains("endpoint: missing"));
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A proxy configured with {@code telemetry.otlp} exports, through the real OpenTelemetry SDK and
 * Micrometer OTLP exporters, a span per request Lettuce sends through it (with listener,
 * protocol, group, fingerprint, RU and outcome; a refused request's span has an error status)
 * and the proxy's meters, to an OTLP/HTTP receiver on loopback that decodes the protobuf bodies.
 */
class OtlpExportTest {

  @Test
  void spansAndMetricsOfRealRequestsArriveOverOtlp() throws Exception {
    try (RedisServer redis = RedisServer.builder().start(); OtlpReceiver collector = new OtlpReceiver()) {
      String yaml = ProxyConfigText.forBackend(redis.address())
          .withGroup("tiny", "{ ru_per_sec: 0.001, burst: 1, on_exhausted: reject }")
          .withTenant("{ match: { user: starved }, group: tiny }")
          .withListener("auth: { mode: terminate, users: [ { name: app, password: pw1 }, { name: starved, password: pw2 } ] }")
          .render()
          + "telemetry:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n"
          + "    traces: { sample_ratio: 1.0 }\n    metrics: { interval_ms: 500 }\n";
      int requests = 20;
      try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER)) {
        RedisClient client = RedisClient.create(
            io.lettuce.core.RedisURI.builder(proxy.uri()).withAuthentication("app", "pw1").build());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
          RedisCommands<String, String> cmd = c.sync();
          for (int i = 0; i < requests / 2; i++) {
            assertEquals("OK", cmd.set("otel:k", "v" + i));
            assertEquals("v" + i, cmd.get("otel:k"));
          }
        } finally {
          client.shutdown();
        }
        RedisClient starved = RedisClient.create(
            io.lettuce.core.RedisURI.builder(proxy.uri()).withAuthentication("starved", "pw2").build());
        try (StatefulRedisConnection<String, String> c = starved.connect()) {
          int refused = 0;
          for (int i = 0; i < 5; i++) {
            try {
              c.sync().get("otel:k");
            } catch (RedisCommandExecutionException e) {
              refused++;
            }
          }
          assertTrue(refused > 0, "the tiny group refuses some requests");
        } finally {
          starved.shutdown();
        }
        Eventually.assertWithin(Duration.ofSeconds(15), () -> {
          long appSpans = collector.spans().stream().filter(s -> "app".equals(attr(s, "mproxy.tenant.user"))).count();
          assertTrue(appSpans >= requests, "spans of app so far: " + appSpans);
          assertTrue(collector.spans().stream().anyMatch(s -> "rejected".equals(attr(s, "mproxy.outcome"))),
              "a span of a refused request");
          assertTrue(metricNames(collector).contains("mproxy_requests"), "metrics so far: " + metricNames(collector));
        });
      }
      assertEquals(List.of(), collector.refused(), "every export was a protobuf POST");
      Span set = collector.spans().stream().filter(s -> "SET otel:k".equals(attr(s, "mproxy.fingerprint")))
          .findFirst().orElseThrow(() -> new AssertionError("no SET span: " + collector.spans()));
      assertEquals("redis", attr(set, "mproxy.listener"));
      assertEquals("redis", attr(set, "mproxy.protocol"));
      assertEquals("default", attr(set, "mproxy.group"));
      assertEquals("ok", attr(set, "mproxy.outcome"));
      assertTrue(Double.parseDouble(attr(set, "mproxy.ru")) > 0, "RU: " + attr(set, "mproxy.ru"));
      assertTrue(set.getEndTimeUnixNano() >= set.getStartTimeUnixNano() && set.getStartTimeUnixNano() > 0);
      assertEquals(Span.SpanKind.SPAN_KIND_SERVER, set.getKind());
      Span rejected = collector.spans().stream().filter(s -> "rejected".equals(attr(s, "mproxy.outcome")))
          .findFirst().orElseThrow();
      assertEquals("tiny", attr(rejected, "mproxy.group"));
      assertEquals("starved", attr(rejected, "mproxy.tenant.user"));
      assertEquals(Status.StatusCode.STATUS_CODE_ERROR, rejected.getStatus().getCode());
    }
  }

  /**
   * Runtime gauges (backends, pools, client connections, groups) get their series from the
   * daemon's housekeeping timer: they reach an OTLP collector although nothing ever scrapes
   * {@code /metrics}.
   */
  @Test
  void runtimeGaugesArriveOverOtlpWithoutAnyScrape() throws Exception {
    try (RedisServer redis = RedisServer.builder().start(); OtlpReceiver collector = new OtlpReceiver()) {
      String yaml = ProxyConfigText.forBackend(redis.address()).render()
          + "telemetry:\n  otlp:\n    endpoint: " + collector.endpoint() + "\n"
          + "    metrics: { interval_ms: 500 }\n";
      try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER)) {
        Eventually.assertWithin(Duration.ofSeconds(20), () -> {
          List<String> names = metricNames(collector);
          for (String gauge : List.of("mproxy_backend_up", "mproxy_pool_connections", "mproxy_client_connections",
              "mproxy_ru_limit_per_sec")) {
            assertTrue(names.contains(gauge), gauge + " not among " + names);
          }
        });
      }
    }
  }

  private static String attr(Span span, String key) {
    for (KeyValue kv : span.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        AnyValue v = kv.getValue();
        return switch (v.getValueCase()) {
          case STRING_VALUE -> v.getStringValue();
          case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
          case INT_VALUE -> Long.toString(v.getIntValue());
          case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
          default -> v.toString();
        };
      }
    }
    return null;
  }

  private static List<String> metricNames(OtlpReceiver collector) {
    Map<String, Boolean> names = new HashMap<>();
    collector.metrics().forEach(r -> r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList()
        .forEach(sm -> sm.getMetricsList().stream().map(Metric::getName).forEach(n -> names.put(n, true)))));
    return List.copyOf(names.keySet());
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * With the packaged logback.xml and {@code logging: { format: json }}, a record logged through
 * {@code java.util.logging} (where the OpenTelemetry SDK logs its export failures) comes out as
 * one JSON line on standard error like every other line, and the access log's drop counter is
 * exported.
 */
class LoggingWiringTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void javaUtilLoggingRecordsFollowTheJsonFormat() throws Exception {
    try (RedisServer redis = RedisServer.builder().start();
        CapturedConsole console = new CapturedConsole();
        PackagedLogback logback = new PackagedLogback()) {
      String yaml = ProxyConfigText.forBackend(redis.address()).render() + "logging: { format: json }\n";
      try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER)) {
        String marker = "jul-marker-" + System.nanoTime();
        Logger.getLogger("io.opentelemetry.exporter.internal.http.HttpExporter")
            .severe("Failed to export spans: " + marker);
        Logger.getLogger("io.opentelemetry.sdk.test").fine("below the level: " + marker + "-fine");

        Eventually.assertWithin(Duration.ofSeconds(10), () -> {
          Optional<JsonNode> line = jsonLineContaining(console.text(), marker);
          assertTrue(line.isPresent(), "no JSON line with the JUL record in:\n" + console.text());
          assertTrue(line.get().path("loggerName").asText().equals("io.opentelemetry.exporter.internal.http.HttpExporter"),
              line.get().toString());
          assertTrue(line.get().path("level").asText().equals("ERROR"), line.get().toString());
        });
        assertFalse(console.text().contains(marker + "-fine"), "JUL FINE stays below the configured level");
        assertFalse(console.text().lines().anyMatch(l -> l.contains(marker) && !l.startsWith("{")),
            "the record is not also printed by JUL's own console handler");
        assertTrue(proxy.metrics().samples("mproxy_access_log_dropped_total").size() == 1,
            proxy.metrics().text());
      }
    }
  }

  private static Optional<JsonNode> jsonLineContaining(String text, String marker) {
    return text.lines().filter(l -> l.startsWith("{") && l.contains(marker)).findFirst().map(l -> {
      try {
        return JSON.readTree(l);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + l, e);
      }
    });
  }
}

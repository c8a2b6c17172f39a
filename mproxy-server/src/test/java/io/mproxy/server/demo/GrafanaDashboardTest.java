package io.mproxy.server.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.testkit.Eventually;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped Grafana dashboard queries only metrics a running proxy exports: every
 * {@code mproxy_*} name in its PromQL appears in {@code /metrics} of the demo (PostgreSQL
 * listener with traffic and refusals), so a renamed metric breaks this test, not a 3 a.m. graph.
 */
class GrafanaDashboardTest {

  private static final Path DASHBOARD = Path.of("..", "packaging", "grafana", "mproxy-dashboard.json");
  private static final Pattern METRIC = Pattern.compile("\\bmproxy_[a-z_]+");

  @Test
  void everyQueriedMetricIsExported() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    Set<String> queried = new TreeSet<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        Matcher m = METRIC.matcher(target.get("expr").asText());
        while (m.find()) {
          queried.add(m.group());
        }
      }
    }
    assertTrue(queried.size() >= 10, "too few metrics found in the dashboard: " + queried);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    try (Demo demo = Demo.start(0, 0, 3)) {
      Eventually.assertWithin(Duration.ofSeconds(60), () -> {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + demo.adminPort() + "/metrics")).timeout(Duration.ofSeconds(20)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        Set<String> exported = new TreeSet<>();
        for (String line : r.body().split("\n")) {
          Matcher m = METRIC.matcher(line);
          if (!line.startsWith("#") && m.lookingAt()) {
            exported.add(m.group());
          }
        }
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(exported);
        assertTrue(missing.isEmpty(), "queried by the dashboard but not exported: " + missing + "; exported: " + exported);
      });
    }
  }
}

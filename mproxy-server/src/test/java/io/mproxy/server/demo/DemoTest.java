package io.mproxy.server.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.server.usage.UsageDocument;
import io.mproxy.testkit.Eventually;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs the real demo (H2's PG server, the daemon, the three tenants' clients) for a few seconds:
 * the HIGH tenant's queries are answered and never refused, while the LOW flood is shed by its
 * group's RU budget, as both the clients and the proxy's group counters see it.
 */
class DemoTest {

  @Test
  void highTenantIsServedWhileLowFloodIsShed() throws Exception {
    try (Demo demo = Demo.start(0, 0, 42)) {
      Map<String, TenantStats> stats = demo.workload().stats();
      Eventually.assertWithin(Duration.ofSeconds(60), () -> {
        assertTrue(stats.get("checkout").okTotal() >= 50, () -> "checkout answered: " + stats.get("checkout").okTotal()
            + "; " + demo.render(demo.sample()) + "\nlast failure: " + stats.get("checkout").interval().lastFailure());
        assertTrue(stats.get("reports").refusedTotal() >= 20, "reports refused: " + stats.get("reports").refusedTotal());
        assertTrue(stats.get("reports").okTotal() >= 1, "reports answered: " + stats.get("reports").okTotal());
      });
      List<DemoTable.Row> rows = demo.sample();
      String table = demo.render(rows);
      System.out.println(table);
      assertEquals(0, stats.get("checkout").refusedTotal(), table);
      assertEquals(0, stats.get("checkout").failedTotal(), table);
      assertEquals(0, stats.get("reports").failedTotal(), table);
      Map<String, ResourceGroup> groups = demo.daemon().server().gateway().groups().all().stream()
          .collect(Collectors.toMap(ResourceGroup::name, g -> g));
      assertEquals(0, groups.get("interactive").rejectedTotal(), table);
      assertTrue(groups.get("interactive").admittedTotal() >= 50, table);
      assertTrue(groups.get("batch").rejectedTotal() >= 20, table);
      assertTrue(table.contains("checkout") && table.contains("HIGH interactive"), table);

      // cost attribution of the same traffic: /api/usage as JSON and CSV
      JsonNode usage = new ObjectMapper().readTree(get(demo, "/api/usage?window=60&top=5"));
      Map<String, Double> byTenant = new HashMap<>();
      usage.get("tenants").forEach(t -> byTenant.put(t.get("tenant").asText(), t.get("ru").asDouble()));
      assertTrue(byTenant.getOrDefault("checkout@demo on demo", 0.0) > 0, usage.toString());
      assertTrue(byTenant.getOrDefault("reports@demo on demo", 0.0) > 0, usage.toString());
      Map<String, Double> byGroup = new HashMap<>();
      usage.get("groups").forEach(g -> byGroup.put(g.get("group").asText(), g.get("ru").asDouble()));
      assertTrue(byGroup.getOrDefault("interactive", 0.0) > 0 && byGroup.getOrDefault("batch", 0.0) > 0,
          usage.toString());
      assertTrue(usage.get("fingerprints").size() >= 2, usage.toString());
      String csv = get(demo, "/api/usage?window=60&format=csv");
      assertTrue(csv.startsWith(UsageDocument.CSV_HEADER + "\n"), csv);
      assertTrue(csv.contains(",tenant,checkout@demo on demo,"), csv);
      assertTrue(csv.contains(",group,interactive,"), csv);
    }
  }

  private static String get(Demo demo, String path) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + demo.adminPort() + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }
}

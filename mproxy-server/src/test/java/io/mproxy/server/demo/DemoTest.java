package io.mproxy.server.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.testkit.Eventually;
import java.time.Duration;
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
    }
  }
}

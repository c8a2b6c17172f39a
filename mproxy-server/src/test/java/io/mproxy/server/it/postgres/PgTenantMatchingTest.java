package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.PromScrape;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tenant rules that match on {@code application} see the application name a client puts in its
 * start-up packet: libpq ({@code PGAPPNAME}) and pgjdbc with {@code assumeMinServerVersion=9.0}.
 * (pgjdbc by default sends {@code SET application_name = '...'} right after logging in instead.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgTenantMatchingTest {

  private static final String GROUP = "{ ru_per_sec: 1000000, burst: 2000000, priority: normal, on_exhausted: reject }";
  private static final int QUERIES = 10;

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withGroup("from_psql", GROUP)
        .withGroup("from_startup", GROUP)
        .withTenant("{ match: { application: reporting-psql }, group: from_psql }")
        .withTenant("{ match: { application: reporting-startup }, group: from_startup }")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void psqlApplicationNameInTheStartupPacketSelectsTheGroup() {
    PromScrape before = proxy.metrics();
    String[] args = new String[2 * QUERIES];
    for (int i = 0; i < QUERIES; i++) {
      args[2 * i] = "-c";
      args[2 * i + 1] = "SELECT " + i;
    }
    ExternalCommand.Result r = PgClients.psql(proxy.port(), "app", "secret", Map.of("PGAPPNAME", "reporting-psql"),
        args);
    assertTrue(r.succeeded(), r.describe());
    assertCounted("from_psql", before);
  }

  @Test
  void pgjdbcApplicationNameInTheStartupPacketSelectsTheGroup() throws Exception {
    PromScrape before = proxy.metrics();
    try (Connection c = PgClients.connect(proxy.port(), "app", "secret",
        Map.of("ApplicationName", "reporting-startup", "assumeMinServerVersion", "9.0"))) {
      assertEquals("reporting-startup", PgClients.queryOne(c, "SHOW application_name"));
      for (int i = 1; i < QUERIES; i++) {
        assertEquals(Integer.toString(i), PgClients.queryOne(c, "SELECT " + i));
      }
    }
    assertCounted("from_startup", before);
  }

  private static void assertCounted(String group, PromScrape before) {
    PromScrape after = proxy.metrics();
    double counted = after.sum("mproxy_requests_total", "group", group)
        - before.sum("mproxy_requests_total", "group", group);
    assertTrue(counted >= QUERIES, QUERIES + " queries counted in group " + group + ", got " + counted
        + "; groups: " + after.samples("mproxy_requests_total"));
  }
}

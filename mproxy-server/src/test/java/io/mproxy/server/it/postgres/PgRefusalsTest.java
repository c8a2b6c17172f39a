package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.PromScrape;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Refusals in PostgreSQL's own terms: a client beyond {@code max_client_connections} gets
 * SQLSTATE 53300 (too_many_connections), and a query beyond its group's RU budget gets 53400
 * (configuration_limit_exceeded) with a message starting {@code mproxy:} that names the group,
 * on a connection that stays usable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgRefusalsTest {

  private static final int MAX_CLIENTS = 3;

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withListener("max_client_connections: " + MAX_CLIENTS)
        .withGroup("tiny", "{ ru_per_sec: 100, burst: 100, priority: normal, on_exhausted: reject }")
        .withUser("{ name: tiny, password: tiny-pw }")
        .withTenant("{ match: { user: tiny }, group: tiny }")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void aClientBeyondMaxClientConnectionsGets53300() throws Exception {
    List<Connection> open = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_CLIENTS; i++) {
        open.add(PgClients.app(proxy.port()));
      }
      SQLException refused = assertThrows(SQLException.class, () -> PgClients.app(proxy.port()).close());
      assertEquals("53300", refused.getSQLState(), refused.getMessage());

      for (Connection c : open) {
        assertEquals("1", PgClients.queryOne(c, "SELECT 1"), "the admitted clients are unaffected");
      }
      open.remove(0).close();
      Eventually.assertWithin(Duration.ofSeconds(10), () -> PgClients.app(proxy.port()).close());
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
  }

  @Test
  void aQueryBeyondTheGroupsRuBudgetGets53400AndTheConnectionRecovers() throws Exception {
    PromScrape before = proxy.metrics();
    try (Connection c = PgClients.connect(proxy.port(), "tiny", "tiny-pw", Map.of())) {
      // each query returns one value of about 800 KB, about 800 RU: the next cannot fit a 100 RU/s budget
      SQLException refused = null;
      for (int i = 0; i < 20 && refused == null; i++) {
        try {
          PgClients.queryOne(c, "SELECT string_agg(i::text, ',') FROM generate_series(1, 120000) i");
        } catch (SQLException e) {
          refused = e;
        }
      }
      assertNotNull(refused, "20 queries of about 800 RU each in a 100 RU/s group: one is refused");
      assertEquals("53400", refused.getSQLState(), refused.getMessage());
      ServerErrorMessage server = assertInstanceOf(PSQLException.class, refused).getServerErrorMessage();
      assertNotNull(server, "the refusal is a server ErrorResponse");
      assertTrue(server.getMessage().startsWith("mproxy:"), server.getMessage());
      assertTrue(server.getMessage().contains("tiny"), "names the group: " + server.getMessage());

      // the same connection works again once the budget refills
      Eventually.assertWithin(Duration.ofSeconds(30), () -> assertEquals("1", PgClients.queryOne(c, "SELECT 1")));
    }
    PromScrape after = proxy.metrics();
    assertTrue(after.sum("mproxy_shed_total", "group", "tiny", "reason", "ru_limit")
        - before.sum("mproxy_shed_total", "group", "tiny", "reason", "ru_limit") >= 1, after.text());
    assertTrue(after.sum("mproxy_requests_total", "group", "tiny", "outcome", "rejected")
        - before.sum("mproxy_requests_total", "group", "tiny", "outcome", "rejected") >= 1, after.text());
  }
}

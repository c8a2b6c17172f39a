package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Session state across pooled backend connections, with a pool of one so that every client
 * shares the same backend session: startup parameters ({@code application_name},
 * {@code options=-c ...}) take effect for each client in transaction mode even when clients
 * alternate on that session, and in session mode what one client leaves behind (a temp table,
 * a SET) is reset before the next client gets the connection.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgSessionStateTest {

  private static PostgresServer pg;
  private static ProxyFixture transactionMode;
  private static ProxyFixture sessionMode;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "CREATE SCHEMA alpha AUTHORIZATION app; CREATE SCHEMA beta AUTHORIZATION app;"
        + " SET ROLE app; CREATE TABLE alpha.which (v text); INSERT INTO alpha.which VALUES ('alpha');"
        + " CREATE TABLE beta.which (v text); INSERT INTO beta.which VALUES ('beta');");
    PgConfigText config = PgConfigText.forBackend(pg.address());
    transactionMode = ProxyFixture.startYaml(config.withPool("transaction", 1, 1).render(), PgConfigText.LISTENER);
    sessionMode = ProxyFixture.startYaml(config.withPool("session", 1, 1).render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture t = transactionMode; ProxyFixture s = sessionMode) {
      // proxies first, then the backend
    }
  }

  @Test
  void startupParametersFollowEachClientInTransactionMode() throws Exception {
    try (Connection a = PgClients.connect(transactionMode.port(), "app", "secret",
            Map.of("ApplicationName", "client-a", "options", "-c search_path=alpha -c statement_timeout=11000"));
        Connection b = PgClients.connect(transactionMode.port(), "app", "secret",
            Map.of("ApplicationName", "client-b", "options", "-c search_path=beta -c statement_timeout=22000"))) {
      String pidA = PgClients.queryOne(a, "SELECT pg_backend_pid()");
      for (int i = 0; i < 5; i++) {
        assertEquals("alpha|client-a|11s", PgClients.queryOne(a,
            "SELECT (SELECT v FROM which) || '|' || current_setting('application_name') || '|'"
                + " || current_setting('statement_timeout')"));
        assertEquals("beta|client-b|22s", PgClients.queryOne(b,
            "SELECT (SELECT v FROM which) || '|' || current_setting('application_name') || '|'"
                + " || current_setting('statement_timeout')"));
      }
      assertEquals(pidA, PgClients.queryOne(b, "SELECT pg_backend_pid()"), "both clients share the one backend");
    }
  }

  @Test
  void sessionModeResetsTheConnectionBetweenClients() throws Exception {
    String pid;
    try (Connection first = PgClients.app(sessionMode.port())) {
      pid = PgClients.queryOne(first, "SELECT pg_backend_pid()");
      PgClients.queryOne(first, "SELECT set_config('work_mem', '7777kB', false)");
      first.createStatement().execute("CREATE TEMP TABLE leftover (v int)");
      assertEquals("7777kB", PgClients.queryOne(first, "SHOW work_mem"));
      assertEquals(pid, PgClients.queryOne(first, "SELECT pg_backend_pid()"), "session mode keeps the backend");
    }
    try (Connection second = PgClients.app(sessionMode.port())) {
      assertEquals(pid, PgClients.queryOne(second, "SELECT pg_backend_pid()"), "the pool of one reuses the backend");
      assertEquals("4MB", PgClients.queryOne(second, "SHOW work_mem"), "the SET was reset");
      assertEquals("0", PgClients.queryOne(second,
          "SELECT count(*) FROM pg_class WHERE relname = 'leftover' AND relpersistence = 't'"), "the temp table is gone");
    }
  }
}

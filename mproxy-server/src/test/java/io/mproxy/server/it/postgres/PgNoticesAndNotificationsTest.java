package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Asynchronous messages through the proxy in transaction mode: a NOTICE raised by the backend
 * reaches the client (pgjdbc exposes it as a warning), and LISTEN/NOTIFY works across clients,
 * which needs the listening client's backend session to stay with it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgNoticesAndNotificationsTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).withPool("transaction", 1, 3).render(),
        PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void noticesReachTheClient() throws Exception {
    try (Connection c = PgClients.app(proxy.port()); Statement s = c.createStatement()) {
      s.execute("DO $$ BEGIN RAISE NOTICE 'hello from the backend %', 42; END $$");
      SQLWarning warning = s.getWarnings();
      assertNotNull(warning, "the NOTICE arrived");
      assertTrue(warning.getMessage().contains("hello from the backend 42"), warning.getMessage());
      assertEquals("00000", warning.getSQLState());
    }
  }

  @Test
  void listenNotifyReachesTheListeningClient() throws Exception {
    try (Connection listener = PgClients.app(proxy.port()); Connection notifier = PgClients.app(proxy.port())) {
      try (Statement s = listener.createStatement()) {
        s.execute("LISTEN jobs");
      }
      // other clients' transactions go on meanwhile
      for (int i = 0; i < 10; i++) {
        assertEquals(Integer.toString(i), PgClients.queryOne(notifier, "SELECT " + i));
      }
      try (Statement s = notifier.createStatement()) {
        s.execute("NOTIFY jobs, 'first'");
        s.execute("SELECT pg_notify('jobs', 'second')");
      }

      List<String> payloads = new ArrayList<>();
      PGConnection pgListener = listener.unwrap(PGConnection.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (payloads.size() < 2 && System.nanoTime() < deadline) {
        PGNotification[] received = pgListener.getNotifications(500);
        if (received != null) {
          for (PGNotification n : received) {
            assertEquals("jobs", n.getName());
            payloads.add(n.getParameter());
          }
        }
      }
      assertEquals(List.of("first", "second"), payloads);
    }
  }
}

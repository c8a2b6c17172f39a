package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The listener's time limits, each on a pool of one backend connection so that what one client
 * holds is what the next one waits for: {@code query_timeout_ms} cancels a long query with 57014,
 * {@code idle_transaction_timeout_ms} takes the backend connection away from a client that sits
 * in an open transaction (rolling it back), and {@code query_wait_timeout_ms} refuses a query
 * that waited that long for a backend connection, with a message starting {@code mproxy:}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgTimeoutsTest {

  private static PostgresServer pg;
  private static ProxyFixture timeouts;
  private static ProxyFixture shortWait;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app; CREATE TABLE marks (v text)");
    PgConfigText onePool = PgConfigText.forBackend(pg.address()).withPool("transaction", 1, 1);
    timeouts = ProxyFixture.startYaml(onePool
        .withListener("query_timeout_ms: 1000")
        .withListener("idle_transaction_timeout_ms: 500")
        .withListener("query_wait_timeout_ms: 20000")
        .render(), PgConfigText.LISTENER);
    shortWait = ProxyFixture.startYaml(onePool
        .withListener("query_wait_timeout_ms: 500")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture t = timeouts; ProxyFixture s = shortWait) {
      // proxies first, then the backend
    }
  }

  @Test
  void queryTimeoutCancelsALongQuery() throws Exception {
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try (Connection c = PgClients.app(timeouts.port())) {
      Future<String> sleeping = thread.submit(() -> PgClients.queryOne(c, "SELECT pg_sleep(30)::text"));
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> sleeping.get(15, TimeUnit.SECONDS), "a 30 s query ends well before 30 s under query_timeout_ms 1000");
      SQLException sql = assertInstanceOf(SQLException.class, failed.getCause());
      assertEquals("57014", sql.getSQLState(), sql.getMessage());
      assertEquals("after", PgClients.queryOne(c, "SELECT 'after'"), "the connection is usable afterwards");
    } finally {
      thread.shutdownNow();
      assertTrue(thread.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void idleTransactionTimeoutFreesTheBackendAndRollsBack() throws Exception {
    try (Connection idle = PgClients.app(timeouts.port()); Connection next = PgClients.app(timeouts.port())) {
      idle.setAutoCommit(false);
      try (Statement s = idle.createStatement()) {
        s.executeUpdate("INSERT INTO marks VALUES ('uncommitted')");
      }
      // the only backend connection is held by the idle transaction until the proxy ends it
      assertEquals("next", PgClients.queryOne(next, "SELECT 'next'"));
      assertEquals("0", PgClients.queryOne(next, "SELECT count(*) FROM marks WHERE v = 'uncommitted'"),
          "the idle transaction was rolled back");
      assertThrows(SQLException.class, () -> {
        PgClients.queryOne(idle, "SELECT 1");
        idle.commit();
      }, "the idle client's transaction is gone: it cannot carry on as if nothing happened");
    }
  }

  @Test
  void queryWaitTimeoutRefusesAQueryThatGetsNoBackendConnection() throws Exception {
    try (Connection holder = PgClients.app(shortWait.port()); Connection waiter = PgClients.app(shortWait.port())) {
      holder.setAutoCommit(false);
      assertEquals("1", PgClients.queryOne(holder, "SELECT 1")); // holds the only backend connection

      SQLException refused = assertThrows(SQLException.class, () -> PgClients.queryOne(waiter, "SELECT 'w'"));
      ServerErrorMessage server = assertInstanceOf(PSQLException.class, refused).getServerErrorMessage();
      assertNotNull(server, "the refusal is an ErrorResponse: " + refused);
      assertTrue(server.getMessage().startsWith("mproxy:"), server.getMessage());

      holder.commit();
      assertEquals("w", PgClients.queryOne(waiter, "SELECT 'w'"), "once the backend is free the waiter gets it");
    }
  }
}

package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Statement.cancel()} through the proxy: pgjdbc sends a CancelRequest with the key the
 * proxy gave it, and the proxy must cancel the query on whichever backend connection runs it
 * now (in transaction mode that changes from one transaction to the next), and no other.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgjdbcCancelTest {

  private static final String LONG_SLEEP = "SELECT pg_sleep(30)";

  private static PostgresServer pg;
  private static ProxyFixture transactionMode;
  private static ProxyFixture sessionMode;
  private ExecutorService threads;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    PgConfigText config = PgConfigText.forBackend(pg.address());
    transactionMode = ProxyFixture.startYaml(config.withPool("transaction", 1, 5).render(), PgConfigText.LISTENER);
    sessionMode = ProxyFixture.startYaml(config.withPool("session", 1, 5).render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture t = transactionMode; ProxyFixture s = sessionMode) {
      // proxies first, then the backend
    }
  }

  @BeforeEach
  void threads() {
    threads = Executors.newCachedThreadPool();
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertTrue(threads.awaitTermination(60, TimeUnit.SECONDS));
  }

  @Test
  void cancelStopsPgSleepInTransactionMode() throws Exception {
    assertCancelStopsSleep(transactionMode);
  }

  @Test
  void cancelStopsPgSleepInSessionMode() throws Exception {
    assertCancelStopsSleep(sessionMode);
  }

  @Test
  void cancelReachesOnlyTheQueryOfTheCancellingClient() throws Exception {
    try (Connection target = PgClients.app(transactionMode.port());
        Connection other1 = PgClients.app(transactionMode.port());
        Connection other2 = PgClients.app(transactionMode.port());
        Statement targetStatement = target.createStatement()) {
      Future<?> cancelled = threads.submit(() -> execute(targetStatement, LONG_SLEEP));
      Future<?> ok1 = threads.submit(() -> execute(other1.createStatement(), "SELECT pg_sleep(2.5)"));
      Future<?> ok2 = threads.submit(() -> execute(other2.createStatement(), "SELECT pg_sleep(2.51)"));
      awaitActive("SELECT pg_sleep(30)", 1);
      awaitActive("SELECT pg_sleep(2.5%", 2);

      targetStatement.cancel();

      assertQueryCancelled(cancelled);
      ok1.get(30, TimeUnit.SECONDS);
      ok2.get(30, TimeUnit.SECONDS);
      assertEquals("1", PgClients.queryOne(target, "SELECT 1"));
    }
  }

  private void assertCancelStopsSleep(ProxyFixture proxy) throws Exception {
    try (Connection c = PgClients.app(proxy.port()); Statement s = c.createStatement()) {
      // earlier transactions, so that in transaction mode the sleep may run on another backend
      for (int i = 0; i < 5; i++) {
        assertEquals(Integer.toString(i), PgClients.queryOne(c, "SELECT " + i));
      }
      Future<?> sleeping = threads.submit(() -> execute(s, LONG_SLEEP));
      awaitActive(LONG_SLEEP, 1);

      s.cancel();

      assertQueryCancelled(sleeping);
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(0, activeCount(LONG_SLEEP)));
      assertEquals("after", PgClients.queryOne(c, "SELECT 'after'"), "the connection is usable after a cancel");
    }
  }

  /** The query failed with 57014 well before its 30 s sleep could have ended. */
  private static void assertQueryCancelled(Future<?> query) throws InterruptedException {
    ExecutionException failed = assertThrows(ExecutionException.class, () -> query.get(10, TimeUnit.SECONDS),
        "the cancelled query ends within 10 s, not after its 30 s sleep");
    SQLException sql = assertInstanceOf(SQLException.class, failed.getCause());
    assertEquals("57014", sql.getSQLState(), sql.getMessage());
    assertTrue(sql.getMessage().contains("canceling statement due to user request"), sql.getMessage());
  }

  private static Void execute(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
    }
    return null;
  }

  private static void awaitActive(String queryPattern, int count) {
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(count, activeCount(queryPattern),
        "backend sessions running " + queryPattern));
  }

  private static int activeCount(String queryPattern) {
    return Integer.parseInt(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
        + " AND query LIKE " + literal(queryPattern)));
  }

  private static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}

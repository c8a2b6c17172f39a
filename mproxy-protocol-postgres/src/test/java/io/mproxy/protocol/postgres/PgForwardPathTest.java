package io.mproxy.protocol.postgres;

import io.mproxy.core.testing.LoopbackListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.fingerprint.FingerprintStats;
import io.mproxy.core.request.Outcome;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL forward path through {@link PgMiniProxy} (the daemon's wiring, a real server,
 * transaction pooling): what it costs per transaction in things that can be counted.
 */
class PgForwardPathTest {

  private static PostgresServer pg;

  @BeforeAll
  static void start() {
    pg = PostgresServer.start();
  }

  @AfterAll
  static void stop() {
    if (pg != null) {
      pg.close();
    }
  }

  private static LoopbackListener proxy(int loops, int poolSize) throws InterruptedException {
    return PgMiniProxy.start(pg.host(), pg.port(), PostgresServer.APP_USER, PostgresServer.APP_DATABASE, loops,
        poolSize);
  }

  /**
   * A transaction's request is read, admitted, leased a connection and dispatched within one
   * client read, and answered, completed and its connection released within one backend read:
   * with core's ReadBatch each read takes one clock reading, not one per step. Reading the clock
   * per step cost seven readings per transaction (arrival, admission, the lease, dispatch, last
   * activity, completion, the release); now it is two, a few more when the kernel splits a read.
   */
  @Test
  void aTransactionReadsTheClockOncePerRead() throws Exception {
    int transactions = 200;
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      for (int i = 0; i < 20; i++) {
        assertEquals(List.of("1"), c.query("SELECT 1").firstColumns());
      }
      // a request completes just after its answer is flushed: let the last one finish
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(20, proxy.completed(Outcome.OK)));
      long before = proxy.clockReadings();
      for (int i = 0; i < transactions; i++) {
        PgTestClient.Answer a = c.query("SELECT " + i);
        assertNull(a.error());
        assertEquals(List.of(String.valueOf(i)), a.firstColumns());
      }
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(20 + transactions, proxy.completed(Outcome.OK)));
      long readings = proxy.clockReadings() - before;
      assertTrue(readings <= 3L * transactions,
          readings + " clock readings for " + transactions + " transactions");
    }
  }

  /**
   * The transaction status is read from a ReadyForQuery that arrives in one slice with the result
   * before it (BEGIN's CommandComplete, a SELECT's rows): a client inside a transaction keeps its
   * connection, and another client's query waits for the COMMIT. Were the status misread as idle,
   * the connection would go back to the pool after BEGIN, the second client's query would run
   * inside the first one's transaction and hold the connection, and the first client's next query
   * would never be answered (the client's read times out and fails the test).
   */
  @Test
  void aClientInsideATransactionKeepsItsConnection() throws Exception {
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient a = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE);
        PgTestClient b = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      assertEquals('T', a.query("BEGIN").status());
      String pid = a.query("SELECT pg_backend_pid()").firstColumns().get(0);
      b.send(new String[] {"SELECT 'b:' || pg_backend_pid() || ':' || (SELECT count(*) FROM pg_stat_activity"
          + " WHERE pid = pg_backend_pid() AND xact_start IS NOT NULL AND xact_start < statement_timestamp())"});
      PgTestClient.Answer inTx = a.query("SELECT 2");
      assertEquals(List.of("2"), inTx.firstColumns());
      assertEquals('T', inTx.status());
      assertEquals('I', a.query("COMMIT").status());
      PgTestClient.Answer other = b.answer();
      assertNull(other.error());
      // the same (only) server process, in a transaction of its own, not one begun before it
      assertEquals(List.of("b:" + pid + ":0"), other.firstColumns());
      assertEquals('I', other.status());
    }
  }

  /**
   * The extended protocol sends its unnamed statement's Parse with every transaction, and the
   * session keeps the shape of the last Parse text for the next one with the same bytes. A text of
   * the same length that differs in one byte is still classified and fingerprinted as itself:
   * each statement's fingerprint counts exactly its own executions. Were the kept shape reused
   * for a different text (a length-only or prefix comparison), the counts would mix.
   */
  @Test
  void eachExtendedProtocolStatementIsFingerprintedAsItself() throws Exception {
    String a = "SELECT 1 AS x";
    String b = "SELECT 2 AS y";
    assertNotEquals(PgSql.fingerprint(a), PgSql.fingerprint(b));
    String[] order = {a, a, a, b, b, a, b, a, a, b};
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      for (String sql : order) {
        PgTestClient.Answer answer = c.extended(sql);
        assertNull(answer.error());
        assertEquals(List.of(sql.equals(a) ? "1" : "2"), answer.firstColumns());
        assertEquals('I', answer.status());
      }
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(order.length, proxy.completed(Outcome.OK)));
      FingerprintStats first = proxy.gateway().fingerprints().get(PgSql.fingerprint(a));
      FingerprintStats second = proxy.gateway().fingerprints().get(PgSql.fingerprint(b));
      assertNotNull(first);
      assertNotNull(second);
      assertEquals(6, first.count());
      assertEquals(4, second.count());
    }
  }
}

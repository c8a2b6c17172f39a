package io.mproxy.protocol.postgres;

import io.mproxy.core.testing.LoopbackListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.fingerprint.FingerprintStats;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Outcome;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
  /**
   * The extended protocol's answer (ParseComplete, BindComplete, RowDescription, the row,
   * CommandComplete, ReadyForQuery) reaches the session as one slice from the backend's decoder:
   * the unnamed statement's ParseComplete travels in the relayed run. When it traveled alone each
   * transaction was two deliveries through the pipeline and two buffers gathered into one for the
   * client. (More than one delivery per transaction only when the kernel splits an answer.)
   */
  @Test
  void anExtendedProtocolAnswerIsOneDeliveryFromTheBackend() throws Exception {
    int transactions = 100;
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      assertEquals(List.of("1"), c.extended("SELECT 1").firstColumns()); // opens the pool's connection
      AtomicLong deliveries = countDeliveriesOfTheBackend(proxy);
      for (int i = 0; i < transactions; i++) {
        PgTestClient.Answer a = c.extended("SELECT " + i);
        assertNull(a.error());
        assertEquals(List.of(String.valueOf(i)), a.firstColumns());
        assertEquals('I', a.status());
      }
      long n = deliveries.get();
      assertTrue(n >= transactions && n < transactions * 3 / 2, n + " deliveries for " + transactions + " transactions");
    }
  }

  /**
   * A named statement's ParseComplete is read by the session, not relayed in a run: were it in a
   * run with its ReadyForQuery, the session would take the statement for one an error skipped,
   * forget it, and prepare it again on the next Bind (the server: "already exists"). Unnamed
   * statements in between switch the relaying on and off again.
   */
  @Test
  void aNamedStatementStaysPreparedBetweenUnnamedOnes() throws Exception {
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      c.write(PgTestClient.parse("s1", "SELECT 41 + 1"), PgTestClient.bind("s1"), PgTestClient.execute(),
          PgTestClient.sync());
      assertEquals("12DCZ", c.readThrough('Z', 1));
      for (int i = 0; i < 3; i++) {
        assertEquals(List.of(String.valueOf(i)), c.extended("SELECT " + i).firstColumns());
        c.write(PgTestClient.bind("s1"), PgTestClient.execute(), PgTestClient.sync());
        assertEquals("2DCZ", c.readThrough('Z', 1));
      }
      c.write(PgTestClient.parse("", "SELECT 7"), PgTestClient.bind(""), PgTestClient.execute(),
          PgTestClient.parse("s2", "SELECT 8"), PgTestClient.bind("s2"), PgTestClient.execute(), PgTestClient.sync());
      assertEquals("12DC12DCZ", c.readThrough('Z', 1));
      c.write(PgTestClient.bind("s2"), PgTestClient.execute(), PgTestClient.bind("s1"), PgTestClient.execute(),
          PgTestClient.sync());
      assertEquals("2DC2DCZ", c.readThrough('Z', 1));
    }
  }

  /**
   * Several unnamed statements answered together (Flush, no Sync: their ParseCompletes in one
   * relayed run) and then a Close's answer: the session still pairs each awaited Parse with its
   * statement name. A named Parse that fails later in the same transaction is then known not to
   * be on the server and is prepared again when next bound. Were the names left one behind, the
   * failed statement would count as prepared and its Bind would fail ("does not exist").
   */
  @Test
  void aFailedNamedParseIsPreparedAgainAfterUnnamedOnesAnsweredTogether() throws Exception {
    String table = "pgwake_later_" + System.nanoTime();
    try (LoopbackListener proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      assertEquals('T', c.query("BEGIN").status());
      c.write(PgTestClient.parse("", "SELECT 1"), PgTestClient.bind(""), PgTestClient.execute(),
          PgTestClient.parse("", "SELECT 2"), PgTestClient.bind(""), PgTestClient.execute(),
          PgTestClient.parse("", "SELECT 3"), PgTestClient.bind(""), PgTestClient.execute(), PgTestClient.flush());
      assertEquals("12DC12DC12DC", c.readThrough('C', 3));
      c.write(PgTestClient.closePortal(), PgTestClient.sync());
      assertEquals("3Z", c.readThrough('Z', 1));
      c.write(PgTestClient.parse("s", "SELECT count(*) FROM " + table), PgTestClient.bind("s"),
          PgTestClient.execute(), PgTestClient.sync());
      assertEquals("EZ", c.readThrough('Z', 1));
      assertEquals('I', c.query("ROLLBACK").status());
      assertNull(c.query("CREATE TABLE " + table + " (x int)").error());
      try {
        c.write(PgTestClient.bind("s"), PgTestClient.execute(), PgTestClient.sync());
        assertEquals("2DCZ", c.readThrough('Z', 1));
      } finally {
        c.query("DROP TABLE " + table);
      }
    }
  }

  /** Counts the messages the pool's one backend connection's decoder delivers from now on. */
  private static AtomicLong countDeliveriesOfTheBackend(LoopbackListener proxy) throws Exception {
    BackendPool pool = proxy.cluster().pools().values().iterator().next().values().iterator().next();
    // the last transaction's release may still be under way on the loop
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(1, pool.stats().idle()));
    AtomicReference<PooledConnection> leased = new AtomicReference<>();
    pool.acquire(true, null, new BackendPool.Lease() {
      @Override
      public void granted(PooledConnection connection) {
        leased.set(connection);
      }

      @Override
      public void failed(Throwable cause) {
      }
    });
    PooledConnection connection = leased.get();
    assertNotNull(connection); // idle, so granted within acquire
    AtomicLong deliveries = new AtomicLong();
    connection.channel().pipeline().addAfter("pg-decoder", "count", new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        deliveries.incrementAndGet();
        ctx.fireChannelRead(msg);
      }
    });
    pool.release(connection, true);
    return deliveries;
  }
}

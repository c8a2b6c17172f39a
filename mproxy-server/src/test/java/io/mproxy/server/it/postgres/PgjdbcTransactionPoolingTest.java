package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGStatement;

/**
 * pgjdbc through the proxy in transaction mode with a pool of 5 backend connections: many
 * clients share few backend connections, named prepared statements keep working when a
 * client's transactions land on different backend connections, and batches work.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PgjdbcTransactionPoolingTest {

  private static final int POOL = 5;

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app;"
        + " CREATE TABLE work (thread int, i int, pid int);"
        + " CREATE TABLE items (id int PRIMARY KEY, name text, qty int);"
        + " CREATE TABLE items_rewritten (id int PRIMARY KEY, name text, qty int);");
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).withPool("transaction", 1, POOL).render(),
        PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void fiftyClientThreadsShareFiveBackendConnections() throws Exception {
    int threads = 50;
    int transactionsEach = 20;
    AtomicInteger maxBackendSessions = new AtomicInteger();
    AtomicInteger samples = new AtomicInteger();
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    try (Connection monitor = PgClients.app(pg.port())) {
      Future<?> sampler = pool.submit(() -> {
        while (!done.get()) {
          maxBackendSessions.accumulateAndGet(appSessionsOtherThan(monitor), Math::max);
          samples.incrementAndGet();
        }
        return null;
      });
      CountDownLatch allConnected = new CountDownLatch(threads);
      List<Future<Integer>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        workers.add(pool.submit(() -> {
          try (Connection c = PgClients.app(proxy.port())) {
            allConnected.countDown();
            assertTrue(allConnected.await(60, TimeUnit.SECONDS), "all 50 clients connect at once");
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO work SELECT ?, ?, pg_backend_pid() FROM pg_sleep(0.002)")) {
              for (int i = 0; i < transactionsEach; i++) {
                insert.setInt(1, thread);
                insert.setInt(2, i);
                assertEquals(1, insert.executeUpdate());
                c.commit();
              }
            }
            return transactionsEach;
          }
        }));
      }
      int total = 0;
      try {
        for (Future<Integer> worker : workers) {
          total += worker.get(120, TimeUnit.SECONDS);
        }
      } finally {
        done.set(true);
      }
      sampler.get(30, TimeUnit.SECONDS);

      assertEquals(threads * transactionsEach, total);
      assertEquals(Integer.toString(threads * transactionsEach), PgClients.queryOne(monitor, "SELECT count(*) FROM work"));
      assertEquals(Integer.toString(threads), PgClients.queryOne(monitor, "SELECT count(DISTINCT thread) FROM work"));
      int distinctBackendPids = Integer.parseInt(PgClients.queryOne(monitor, "SELECT count(DISTINCT pid) FROM work"));
      assertTrue(distinctBackendPids >= 1 && distinctBackendPids <= POOL,
          "the proxy's 1000 transactions ran on at most " + POOL + " backend sessions: " + distinctBackendPids);
      assertTrue(samples.get() > 0, "pg_stat_activity was sampled");
      assertTrue(maxBackendSessions.get() >= 1 && maxBackendSessions.get() <= POOL,
          "pg_stat_activity never showed more than " + POOL + " proxy sessions, saw " + maxBackendSessions.get()
              + " in " + samples.get() + " samples");
    } finally {
      done.set(true);
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void namedPreparedStatementsAreReusedAcrossTransactionsOnDifferentBackends() throws Exception {
    int threads = 20;
    int iterations = 50;
    Set<String> handOffs = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        workers.add(pool.submit(() -> {
          try (Connection c = PgClients.connect(proxy.port(), "app", "secret", Map.of("prepareThreshold", "1"))) {
            c.setAutoCommit(false);
            Set<Integer> pids = new HashSet<>();
            int checked = 0;
            try (PreparedStatement twice = c.prepareStatement(
                    "SELECT ?::int * 2, ?::text || '!', pg_backend_pid()");
                PreparedStatement sum = c.prepareStatement("SELECT sum(x) FROM generate_series(1, ?::int) x")) {
              for (int i = 0; i < iterations; i++) {
                twice.setInt(1, i);
                twice.setString(2, "t" + thread);
                try (ResultSet rs = twice.executeQuery()) {
                  assertTrue(rs.next());
                  assertEquals(2 * i, rs.getInt(1));
                  assertEquals("t" + thread + "!", rs.getString(2));
                  pids.add(rs.getInt(3));
                }
                sum.setInt(1, i + 1);
                try (ResultSet rs = sum.executeQuery()) {
                  assertTrue(rs.next());
                  assertEquals((long) (i + 1) * (i + 2) / 2, rs.getLong(1));
                }
                c.commit();
                checked++;
              }
              assertTrue(twice.unwrap(PGStatement.class).isUseServerPrepare(),
                  "pgjdbc used a named server-side statement (prepareThreshold=1)");
            }
            if (pids.size() > 1) {
              handOffs.add("thread " + thread + " on backends " + pids);
            }
            return checked;
          }
        }));
      }
      int total = 0;
      for (Future<Integer> worker : workers) {
        total += worker.get(120, TimeUnit.SECONDS);
      }
      assertEquals(threads * iterations, total);
      assertFalse(handOffs.isEmpty(),
          "with 20 clients on 5 backend connections some client's transactions changed backend,"
              + " so its statements were re-prepared there");
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void executeBatchInsertsEveryRow() throws SQLException {
    int rows = 1000;
    try (Connection c = PgClients.app(proxy.port())) {
      c.setAutoCommit(false);
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO items (id, name, qty) VALUES (?, ?, ?)")) {
        for (int i = 0; i < rows; i++) {
          insert.setInt(1, i);
          insert.setString(2, "item-" + i);
          insert.setInt(3, i % 7);
          insert.addBatch();
        }
        int[] counts = insert.executeBatch();
        assertEquals(rows, counts.length);
        for (int count : counts) {
          assertEquals(1, count);
        }
      }
      c.commit();
      try (Connection direct = PgClients.app(pg.port())) {
        assertEquals(Integer.toString(rows), PgClients.queryOne(direct, "SELECT count(*) FROM items"));
        assertEquals(Integer.toString(sumOfMod7(rows)), PgClients.queryOne(direct, "SELECT sum(qty) FROM items"));
        assertEquals("item-999", PgClients.queryOne(direct, "SELECT name FROM items WHERE id = 999"));
      }
    }
  }

  @Test
  void reWriteBatchedInsertsInsertsEveryRow() throws SQLException {
    int rows = 1000;
    try (Connection c = PgClients.connect(proxy.port(), "app", "secret", Map.of("reWriteBatchedInserts", "true"))) {
      try (PreparedStatement insert = c.prepareStatement(
          "INSERT INTO items_rewritten (id, name, qty) VALUES (?, ?, ?)")) {
        for (int i = 0; i < rows; i++) {
          insert.setInt(1, i);
          insert.setString(2, "item-" + i);
          insert.setInt(3, i % 7);
          insert.addBatch();
        }
        int[] counts = insert.executeBatch();
        assertEquals(rows, counts.length);
        for (int count : counts) {
          assertEquals(Statement.SUCCESS_NO_INFO, count, "rewritten batches report no per-row count");
        }
      }
      assertEquals(Integer.toString(rows), PgClients.queryOne(c, "SELECT count(*) FROM items_rewritten"));
      assertEquals(Integer.toString(sumOfMod7(rows)), PgClients.queryOne(c, "SELECT sum(qty) FROM items_rewritten"));
    }
  }

  @Test
  void aFailedStatementInABatchRollsBackThatTransactionOnly() throws SQLException {
    try (Connection c = PgClients.app(proxy.port())) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.addBatch("INSERT INTO items_rewritten VALUES (100001, 'a', 1)");
        s.addBatch("INSERT INTO items_rewritten VALUES (100001, 'duplicate', 1)");
        SQLException failed = assertThrows(SQLException.class, s::executeBatch);
        assertEquals("23505", sqlState(failed));
      }
      c.rollback();
      assertEquals("0", PgClients.queryOne(c, "SELECT count(*) FROM items_rewritten WHERE id = 100001"));
      c.commit();
    }
  }

  private static int appSessionsOtherThan(Connection monitor) throws SQLException {
    return Integer.parseInt(PgClients.queryOne(monitor, "SELECT count(*) FROM pg_stat_activity"
        + " WHERE usename = 'app' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"));
  }

  private static int sumOfMod7(int rows) {
    int sum = 0;
    for (int i = 0; i < rows; i++) {
      sum += i % 7;
    }
    return sum;
  }

  /** The SQLSTATE of a batch failure, which pgjdbc puts on the next exception. */
  static String sqlState(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if (x.getSQLState() != null && !x.getSQLState().startsWith("0")) {
        return x.getSQLState();
      }
    }
    return e.getSQLState();
  }
}

package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 50 MariaDB Connector/J connections (half with server-side prepared statements) over a pool of
 * 5 backend connections in transaction mode: every
 * transaction commits or rolls back as a unit, session variables follow each client from
 * connection to connection, and MariaDB never sees more connections than the pool allows.
 */
class TransactionPoolingTest {

  private static final int THREADS = 50;
  private static final int ROUNDS = 20;
  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE app.accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;"
        + " INSERT INTO app.accounts VALUES (1, 0), (2, 0);"
        + " CREATE TABLE app.log (id INT PRIMARY KEY AUTO_INCREMENT, who INT, tz VARCHAR(16)) ENGINE=InnoDB");
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 1, max_size: 5, acquire_timeout_ms: 30000 }")
        .start();
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void fiftyClientsOverFiveConnections() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int who = t;
        results.add(pool.submit(() -> work(who)));
      }
      int committed = 0;
      for (Future<Integer> f : results) {
        committed += f.get(120, TimeUnit.SECONDS);
      }
      assertEquals(THREADS * ROUNDS / 2, committed);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(String.valueOf(THREADS * ROUNDS / 2 * 10) + "\t" + String.valueOf(-THREADS * ROUNDS / 2 * 10),
        db.sql("SELECT (SELECT balance FROM app.accounts WHERE id = 1), (SELECT balance FROM app.accounts WHERE id = 2)"));
    assertEquals(String.valueOf(THREADS * ROUNDS / 2), db.sql("SELECT COUNT(*) FROM app.log"));
    assertEquals("0", db.sql("SELECT COUNT(*) FROM app.log WHERE tz <> CONCAT('+0', MOD(who, 10), ':00')"),
        "every client's time_zone followed it to whichever backend connection ran its statements");
    int backendConnections = Integer.parseInt(db.sql(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE user = '" + MariaDbServer.USER + "'"));
    assertTrue(backendConnections <= 5 + 1, "backend connections: " + backendConnections);
  }

  /** Half the rounds commit a transfer of 10, half roll one back; returns the commits. */
  private static int work(int who) throws Exception {
    int commits = 0;
    String url = MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=" + (who % 2 == 0));
    try (Connection c = MysqlProxy.connect(url)) {
      try (Statement s = c.createStatement()) {
        s.execute("SET time_zone = '+0" + (who % 10) + ":00'");
      }
      for (int round = 0; round < ROUNDS; round++) {
        c.setAutoCommit(false);
        try (PreparedStatement debit = c.prepareStatement("UPDATE accounts SET balance = balance - ? WHERE id = 2");
            PreparedStatement credit = c.prepareStatement("UPDATE accounts SET balance = balance + ? WHERE id = 1")) {
          debit.setInt(1, 10);
          debit.executeUpdate();
          credit.setInt(1, 10);
          credit.executeUpdate();
          if (round % 2 == 0) {
            try (PreparedStatement log = c.prepareStatement(
                "INSERT INTO log (who, tz) VALUES (?, @@session.time_zone)")) {
              log.setInt(1, who);
              log.executeUpdate();
            }
            c.commit();
            commits++;
          } else {
            c.rollback();
          }
        }
        c.setAutoCommit(true);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@session.time_zone")) {
          assertTrue(rs.next());
          assertEquals("+0" + (who % 10) + ":00", rs.getString(1));
        }
      }
    }
    return commits;
  }
}

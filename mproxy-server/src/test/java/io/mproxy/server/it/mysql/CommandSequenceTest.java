package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands of every kind one after another on one client session, over a single pooled backend
 * connection that another client uses in between. The session keeps one job object and starts
 * it again for each command, so whatever one command leaves behind (an error answer, a
 * rewritten statement id, the backend statement it ran) must not reach the next one.
 */
class CommandSequenceTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE app.seq (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;"
        + " INSERT INTO app.seq VALUES (1, 'one'), (2, 'two')");
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 1, max_size: 1, acquire_timeout_ms: 30000 }")
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

  /** Error answers (prepared and text) alternate with result sets and new prepares. */
  @Test
  void errorAnswersAndResultSetsAlternate() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true"));
        PreparedStatement dup = c.prepareStatement("INSERT INTO seq VALUES (?, ?)");
        PreparedStatement sel = c.prepareStatement("SELECT name FROM seq WHERE id = ?");
        Statement st = c.createStatement()) {
      for (int i = 0; i < 60; i++) {
        dup.setInt(1, 1);
        dup.setString(2, "again");
        SQLException duplicate = assertThrows(SQLException.class, dup::executeUpdate);
        assertEquals(1062, duplicate.getErrorCode(), "round " + i + ": " + duplicate);
        sel.setInt(1, 1 + i % 2);
        try (ResultSet rs = sel.executeQuery()) {
          assertTrue(rs.next(), "round " + i);
          assertEquals(i % 2 == 0 ? "one" : "two", rs.getString(1), "round " + i);
          assertFalse(rs.next());
        }
        SQLException missing = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM no_such_table"));
        assertEquals(1146, missing.getErrorCode(), "round " + i + ": " + missing);
        try (ResultSet rs = st.executeQuery("SELECT " + i + ", 'text'")) {
          assertTrue(rs.next());
          assertEquals(i, rs.getInt(1));
          assertEquals("text", rs.getString(2));
        }
        // a new statement every round: its prepare answer must carry the proxy's id again
        try (PreparedStatement add = c.prepareStatement("SELECT ? + " + i)) {
          add.setInt(1, 1000);
          try (ResultSet rs = add.executeQuery()) {
            assertTrue(rs.next());
            assertEquals(1000 + i, rs.getLong(1), "round " + i);
          }
        }
      }
    }
  }

  /**
   * Between two executes of a client's statement, another client puts its own session variable
   * on the only backend connection: the proxy resets the connection for the first client (which
   * drops the server's statements) and prepares the statement again before the execute.
   */
  @Test
  void statementPreparedAgainAfterAnotherClientsState() throws Exception {
    try (Connection a = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true"));
        Connection b = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true"));
        PreparedStatement sel = a.prepareStatement("SELECT name, @@session.time_zone FROM seq WHERE id = ?");
        PreparedStatement dup = a.prepareStatement("INSERT INTO seq VALUES (?, ?)");
        Statement bs = b.createStatement()) {
      bs.execute("SET time_zone = '+05:00'");
      long preparesBefore = prepares();
      for (int i = 0; i < 30; i++) {
        try (ResultSet rs = bs.executeQuery("SELECT @@session.time_zone, " + i)) {
          assertTrue(rs.next());
          assertEquals("+05:00", rs.getString(1), "round " + i);
          assertEquals(i, rs.getInt(2));
        }
        if (i % 3 == 0) {
          dup.setInt(1, 2);
          dup.setString(2, "again");
          SQLException duplicate = assertThrows(SQLException.class, dup::executeUpdate);
          assertEquals(1062, duplicate.getErrorCode(), "round " + i + ": " + duplicate);
        }
        sel.setInt(1, 2 - i % 2);
        try (ResultSet rs = sel.executeQuery()) {
          assertTrue(rs.next(), "round " + i);
          assertEquals(i % 2 == 0 ? "two" : "one", rs.getString(1), "round " + i);
          assertEquals("SYSTEM", rs.getString(2), "round " + i + ": the other client's time_zone leaked");
          assertFalse(rs.next());
        }
      }
      long prepares = prepares() - preparesBefore;
      assertTrue(prepares >= 30, "the statement was prepared again after each of the other client's commands: "
          + prepares);
    }
  }

  private static long prepares() {
    String[] row = db.sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_prepare'").trim().split("\\s+");
    return Long.parseLong(row[row.length - 1]);
  }
}

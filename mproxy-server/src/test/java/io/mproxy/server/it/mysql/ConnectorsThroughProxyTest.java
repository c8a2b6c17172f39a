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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MariaDB Connector/J and MySQL Connector/J through the proxy in transaction pooling: text and
 * server-side prepared statements, batches, multiple result sets, transactions and errors.
 */
class ConnectorsThroughProxyTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE app.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64), qty INT, note TEXT)");
    proxy = new MysqlProxy(db).start();
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

  static Stream<String> urls() {
    return Stream.of("mariadb", "mariadb-ps", "mysql", "mysql-ps");
  }

  private static String url(String kind) {
    return switch (kind) {
      case "mariadb" -> MysqlProxy.mariadbUrl(proxy, "allowMultiQueries=true");
      case "mariadb-ps" -> MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true&allowMultiQueries=true");
      case "mysql" -> MysqlProxy.mysqlUrl(proxy, "allowMultiQueries=true");
      default -> MysqlProxy.mysqlUrl(proxy, "useServerPrepStmts=true&cachePrepStmts=true&allowMultiQueries=true");
    };
  }

  @ParameterizedTest
  @MethodSource("urls")
  void textQueriesPreparedStatementsAndErrors(String kind) throws SQLException {
    String tag = "t-" + kind;
    try (Connection c = MysqlProxy.connect(url(kind))) {
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1 + 1, 'x', NULL")) {
        assertTrue(rs.next());
        assertEquals(2, rs.getInt(1));
        assertEquals("x", rs.getString(2));
        assertEquals(null, rs.getString(3));
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO items (name, qty, note) VALUES (?, ?, ?)",
          Statement.RETURN_GENERATED_KEYS)) {
        for (int i = 0; i < 5; i++) {
          ps.setString(1, tag);
          ps.setInt(2, i);
          ps.setString(3, "note " + i);
          assertEquals(1, ps.executeUpdate());
          try (ResultSet keys = ps.getGeneratedKeys()) {
            assertTrue(keys.next());
            assertTrue(keys.getLong(1) > 0);
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT qty, note FROM items WHERE name = ? AND qty >= ? ORDER BY qty")) {
        ps.setString(1, tag);
        ps.setInt(2, 2);
        List<Integer> qty = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            qty.add(rs.getInt(1));
            assertEquals("note " + rs.getInt(1), rs.getString(2));
          }
        }
        assertEquals(List.of(2, 3, 4), qty);
      }
      SQLException e = assertThrows(SQLException.class, () -> {
        try (Statement s = c.createStatement()) {
          s.executeQuery("SELECT * FROM no_such_table");
        }
      });
      assertEquals(1146, e.getErrorCode());
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM items WHERE name = '" + tag + "'")) {
        assertTrue(rs.next());
        assertEquals(5, rs.getInt(1));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("urls")
  void batchesMultipleResultSetsAndTransactions(String kind) throws SQLException {
    String tag = "b-" + kind;
    try (Connection c = MysqlProxy.connect(url(kind))) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO items (name, qty) VALUES (?, ?)")) {
        for (int i = 0; i < 20; i++) {
          ps.setString(1, tag);
          ps.setInt(2, i);
          ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        assertEquals(20, counts.length);
      }
      try (Statement s = c.createStatement()) {
        assertTrue(s.execute("SELECT 1 AS a; SELECT 2 AS b, 3 AS c; UPDATE items SET qty = qty WHERE 1 = 0"));
        try (ResultSet rs = s.getResultSet()) {
          assertTrue(rs.next());
          assertEquals(1, rs.getInt(1));
        }
        assertTrue(s.getMoreResults());
        try (ResultSet rs = s.getResultSet()) {
          assertTrue(rs.next());
          assertEquals(3, rs.getInt(2));
        }
        assertFalse(s.getMoreResults());
        assertEquals(0, s.getUpdateCount());
      }
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE items SET qty = -1 WHERE name = '" + tag + "'");
        c.rollback();
        s.executeUpdate("UPDATE items SET qty = qty + 100 WHERE name = '" + tag + "' AND qty < 5");
        c.commit();
      }
      c.setAutoCommit(true);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT SUM(qty), MIN(qty) FROM items WHERE name = '" + tag + "'")) {
        assertTrue(rs.next());
        assertEquals(190 + 500, rs.getInt(1));
        assertEquals(5, rs.getInt(2));
      }
    }
  }
}

package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * The proxy gathers the small packets of an answer into one buffer per read and writes large ones
 * on their own, after what was gathered before them. These answers mix the two in every order
 * (rows of 5, 600 and 3,000 bytes; enough small rows to fill more than one gathering buffer; a
 * row larger than a socket read; several result sets with OK packets between them): any packet
 * written out of order, twice or not at all breaks the client's parse or the values compared.
 */
class AnswerBytesInOrderTest {

  private static final int ROWS = 400;

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    StringBuilder insert = new StringBuilder("INSERT INTO app.mixed (id) VALUES ");
    for (int i = 1; i <= ROWS; i++) {
      insert.append(i == 1 ? "" : ",").append('(').append(i).append(')');
    }
    db.sql("CREATE TABLE app.mixed (id INT PRIMARY KEY); " + insert);
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

  /** 5, 600 or 3,000 characters, by id: small and large packets alternate. */
  private static int width(int id) {
    return switch (id % 3) {
      case 0 -> 5;
      case 1 -> 600;
      default -> 3000;
    };
  }

  private static String value(int id) {
    return String.valueOf((char) ('A' + id % 26)).repeat(width(id));
  }

  @ParameterizedTest
  @MethodSource("urls")
  void mixedSizeRowsArriveWholeAndInOrder(String kind) throws SQLException {
    String sql = "SELECT id, REPEAT(CHAR(65 + id % 26), CASE id % 3 WHEN 0 THEN 5 WHEN 1 THEN 600 ELSE 3000 END)"
        + " FROM app.mixed WHERE id <= ? ORDER BY id";
    try (Connection c = MysqlProxy.connect(url(kind))) {
      for (int round = 0; round < 3; round++) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setInt(1, ROWS);
          try (ResultSet rs = ps.executeQuery()) {
            for (int id = 1; id <= ROWS; id++) {
              assertTrue(rs.next(), kind + ": row " + id + " missing");
              assertEquals(id, rs.getInt(1), kind);
              assertEquals(value(id), rs.getString(2), kind + ": row " + id);
            }
            assertFalse(rs.next(), kind + ": rows after the last");
          }
        }
        // small rows only: many per read, more than one gathering buffer's worth
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM app.mixed WHERE id <= ? ORDER BY id")) {
          ps.setInt(1, ROWS);
          try (ResultSet rs = ps.executeQuery()) {
            for (int id = 1; id <= ROWS; id++) {
              assertTrue(rs.next(), kind + ": small row " + id + " missing");
              assertEquals(id, rs.getInt(1), kind);
            }
            assertFalse(rs.next(), kind);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("urls")
  void largeRowAndSeveralResultSetsInOneAnswer(String kind) throws SQLException {
    try (Connection c = MysqlProxy.connect(url(kind)); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 'a', REPEAT('z', 300000), 'b'")) {
        assertTrue(rs.next(), kind);
        assertEquals("a", rs.getString(1), kind);
        assertEquals("z".repeat(300000), rs.getString(2), kind);
        assertEquals("b", rs.getString(3), kind);
        assertFalse(rs.next(), kind);
      }
      assertTrue(s.execute("SELECT 1; DO 1; SELECT REPEAT('x', 700); SELECT 'y' UNION ALL SELECT REPEAT('w', 2000);"
          + " SELECT 2"), kind);
      List<String> seen = new ArrayList<>();
      do {
        ResultSet rs = s.getResultSet();
        if (rs == null) {
          seen.add("count " + s.getUpdateCount());
          continue;
        }
        while (rs.next()) {
          seen.add(rs.getString(1));
        }
        rs.close();
      } while (s.getMoreResults() || s.getUpdateCount() != -1);
      assertEquals(List.of("1", "count 0", "x".repeat(700), "y", "w".repeat(2000), "2"), seen, kind);
    }
  }
}

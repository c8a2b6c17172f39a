package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MariaDB's metadata caching (MARIADB_CLIENT_CACHE_METADATA) through the proxy, with MariaDB
 * Connector/J's server-side prepared statements (it asks for the capability when offered). The
 * server skips an execute's column definitions when they are what it last sent for the statement
 * on that backend connection; with one pooled connection shared by several clients that is not
 * always what a given client has, so the proxy must put them back in. One backend connection
 * ({@code max_size: 1}) makes the clients share every server-side statement.
 */
class MetadataCachingTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE app.meta (id INT PRIMARY KEY, v INT, s VARCHAR(64));"
        + " INSERT INTO app.meta VALUES (1, 41, 'one'), (2, 42, 'two');"
        + " CREATE TABLE app.bytes (id INT PRIMARY KEY, c CHAR(20));"
        + " INSERT INTO app.bytes VALUES (1, 'abc');");
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 1, max_size: 1, acquire_timeout_ms: 10000 }")
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

  private static Connection mariadb() throws SQLException {
    return MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true"));
  }

  /**
   * {@code SELECT ?}: the column's type comes from the bound value, so the server sends new
   * metadata with the first execute of a type and skips it on the next execute of that type, even
   * when the next one is another client's, which still has the prepare's (or another type's).
   */
  @Test
  void aClientGetsTheColumnTypesAnotherClientsExecuteLeftOnTheServer() throws SQLException {
    try (Connection a = mariadb(); Connection b = mariadb();
        PreparedStatement pa = a.prepareStatement("SELECT ? AS x");
        PreparedStatement pb = b.prepareStatement("SELECT ? AS x")) {
      for (int round = 0; round < 3; round++) {
        pa.setLong(1, 1234567890123L + round);
        assertEquals(1234567890123L + round, one(pa).getLong(1));
        pb.setLong(1, 987654321098L + round);
        ResultSet rs = one(pb);
        assertEquals(987654321098L + round, rs.getLong(1));
        pb.setString(1, "text " + round);
        assertEquals("text " + round, one(pb).getString(1));
        pa.setString(1, "other " + round);
        assertEquals("other " + round, one(pa).getString(1));
        pa.setLong(1, 5L + round);
        assertEquals(5L + round, one(pa).getLong(1));
        pb.setLong(1, 6L + round);
        assertEquals(6L + round, one(pb).getLong(1));
      }
    }
  }

  /**
   * The table changes between two clients' prepares of the same text: the backend statement the
   * proxy keeps is the later one, whose execute skips metadata the first client never saw.
   */
  @Test
  void aClientGetsTheNewColumnsAfterTheTableChanged() throws SQLException {
    try (Connection a = mariadb(); Connection b = mariadb()) {
      db.sql("CREATE TABLE app.ddl (id INT PRIMARY KEY, v INT); INSERT INTO app.ddl VALUES (1, 7)");
      PreparedStatement pa = a.prepareStatement("SELECT v FROM ddl WHERE id = ?");
      pa.setInt(1, 1);
      assertEquals(7, one(pa).getInt(1));
      db.sql("ALTER TABLE app.ddl MODIFY v VARCHAR(32); UPDATE app.ddl SET v = 'seven' WHERE id = 1");
      PreparedStatement pb = b.prepareStatement("SELECT v FROM ddl WHERE id = ?");
      pb.setInt(1, 1);
      assertEquals("seven", one(pb).getString(1));
      pa.setInt(1, 1);
      ResultSet rs = one(pa);
      assertEquals("seven", rs.getString(1));
      assertEquals(java.sql.Types.VARCHAR, rs.getMetaData().getColumnType(1));
      pa.close();
      pb.close();
    }
  }

  /**
   * The capability is in effect: MariaDB sends fewer bytes per execute to the MariaDB connector
   * (no column definitions) than to MySQL Connector/J (which does not ask for metadata caching),
   * both through the proxy.
   */
  @Test
  void theServerSkipsColumnDefinitionsForClientsThatCacheThem() throws SQLException {
    long withCache = bytesPerExecute(MysqlProxy.mariadbUrl(proxy, "useServerPrepStmts=true"));
    long without = bytesPerExecute(MysqlProxy.mysqlUrl(proxy, "useServerPrepStmts=true"));
    // one column definition of app.bytes.c is more than 30 bytes on the wire
    assertTrue(withCache + 30 <= without, "MariaDB sent " + withCache + " B per execute to a client that caches"
        + " metadata, " + without + " B to one that does not");
  }

  private static long bytesPerExecute(String url) throws SQLException {
    int n = 200;
    try (Connection c = MysqlProxy.connect(url); PreparedStatement ps = c.prepareStatement(
        "SELECT c FROM bytes WHERE id = ?")) {
      ps.setInt(1, 1);
      assertEquals("abc", one(ps).getString(1));
      long before = bytesSent();
      for (int i = 0; i < n; i++) {
        assertEquals("abc", one(ps).getString(1));
      }
      return (bytesSent() - before) / n;
    }
  }

  private static long bytesSent() {
    String[] row = db.sql("SHOW GLOBAL STATUS LIKE 'Bytes_sent'").split("\t");
    return Long.parseLong(row[1].trim());
  }

  private static ResultSet one(PreparedStatement ps) throws SQLException {
    ResultSet rs = ps.executeQuery();
    assertTrue(rs.next(), "one row");
    return rs;
  }
}

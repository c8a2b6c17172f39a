package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * COPY in both directions through {@code org.postgresql.copy.CopyManager}, a 50 MB result
 * streamed with a fetch size (suspended portals), and single values of 20 MB, through the proxy
 * in transaction mode.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PgjdbcCopyAndLargeDataTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app;"
        + " CREATE TABLE copied (id int PRIMARY KEY, name text, amount numeric);"
        + " CREATE TABLE blobs (id int PRIMARY KEY, data bytea);");
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void copyFromStdinAndToStdoutMoveEveryRow() throws Exception {
    int rows = 20_000;
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < rows; i++) {
      csv.append(i).append(",\"name ").append(i).append(", with comma\",").append(i).append(".25\n");
    }
    byte[] input = csv.toString().getBytes(StandardCharsets.UTF_8);
    try (Connection c = PgClients.app(proxy.port())) {
      CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();

      long copiedIn = copy.copyIn("COPY copied (id, name, amount) FROM STDIN WITH (FORMAT csv)",
          new ByteArrayInputStream(input));

      assertEquals(rows, copiedIn);
      assertEquals(Integer.toString(rows), PgClients.queryOne(c, "SELECT count(*) FROM copied"));

      ByteArrayOutputStream output = new ByteArrayOutputStream();
      long copiedOut = copy.copyOut("COPY (SELECT id, name, amount FROM copied ORDER BY id) TO STDOUT WITH (FORMAT csv)",
          output);

      assertEquals(rows, copiedOut);
      assertArrayEquals(input, output.toByteArray(), "COPY TO gives back exactly what COPY FROM took");
      // the connection goes on working after both COPY sub-protocols
      assertEquals("42", PgClients.queryOne(c, "SELECT 42"));
    }
    try (Connection direct = PgClients.app(pg.port())) {
      assertEquals(Integer.toString(rows), PgClients.queryOne(direct, "SELECT count(*) FROM copied"));
      assertEquals("name 19999, with comma", PgClients.queryOne(direct, "SELECT name FROM copied WHERE id = 19999"));
    }
  }

  @Test
  void aFailedCopyIsReportedAndTheConnectionRecovers() throws Exception {
    try (Connection c = PgClients.app(proxy.port())) {
      CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
      SQLException failed = assertThrows(SQLException.class,
          () -> copy.copyIn("COPY copied (id, name, amount) FROM STDIN WITH (FORMAT csv)",
              new ByteArrayInputStream("1,a,not-a-number\n".getBytes(StandardCharsets.UTF_8))));
      assertEquals("22P02", failed.getSQLState(), failed.getMessage());
      assertEquals("1", PgClients.queryOne(c, "SELECT 1"));
    }
  }

  @Test
  void aFiftyMegabyteResultStreamsWithAFetchSize() throws Exception {
    int rows = 400_000;
    try (Connection c = PgClients.app(proxy.port())) {
      c.setAutoCommit(false); // pgjdbc honours fetchSize only inside a transaction
      long bytes = 0;
      long count = 0;
      long idSum = 0;
      try (PreparedStatement s = c.prepareStatement("SELECT i, repeat(md5(i::text), 4) || 'tail-end-of-row'"
          + " FROM generate_series(1, ?) i")) {
        s.setInt(1, rows);
        s.setFetchSize(5_000);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            count++;
            idSum += rs.getInt(1);
            String value = rs.getString(2);
            assertTrue(value.endsWith("tail-end-of-row"));
            bytes += value.length() + Integer.toString(rs.getInt(1)).length();
          }
        }
      }
      c.commit();
      assertEquals(rows, count);
      assertEquals((long) rows * (rows + 1) / 2, idSum);
      assertTrue(bytes > 50L * 1000 * 1000, "the result carried over 50 MB of values: " + bytes);
      assertEquals("7", PgClients.queryOne(c, "SELECT 7"));
    }
  }

  @Test
  void aTwentyMegabyteTextValueComesBackWhole() throws Exception {
    int length = 20 * 1024 * 1024;
    try (Connection c = PgClients.app(proxy.port()); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT v, md5(v) FROM (SELECT repeat('abcd', " + length / 4 + ") v) t")) {
      assertTrue(rs.next());
      String value = rs.getString(1);
      assertEquals(length, value.length());
      assertEquals(rs.getString(2), md5Hex(value.getBytes(StandardCharsets.UTF_8)));
      assertFalse(rs.next());
    }
  }

  @Test
  void aTwentyMegabyteByteaValueGoesInAndComesBackWhole() throws Exception {
    byte[] data = new byte[20 * 1024 * 1024];
    new Random(42).nextBytes(data);
    try (Connection c = PgClients.app(proxy.port())) {
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO blobs (id, data) VALUES (?, ?)")) {
        insert.setInt(1, 1);
        insert.setBytes(2, data);
        assertEquals(1, insert.executeUpdate());
      }
      assertEquals(md5Hex(data), PgClients.queryOne(c, "SELECT md5(data) FROM blobs WHERE id = 1"));
      try (PreparedStatement select = c.prepareStatement("SELECT data FROM blobs WHERE id = ?")) {
        select.setInt(1, 1);
        try (ResultSet rs = select.executeQuery()) {
          assertTrue(rs.next());
          assertArrayEquals(data, rs.getBytes(1));
        }
      }
    }
  }

  private static String md5Hex(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
  }
}

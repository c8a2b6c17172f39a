package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Floods against PostgreSQL listeners, through pgjdbc and a real PostgreSQL: the connection
 * limit answers SQLSTATE 53300, a client trickling its StartupMessage is closed at
 * {@code handshake_timeout_ms} with an ErrorResponse while logged-in clients idle on, and wrong
 * passwords from one address block that address (SQLSTATE 28000) but not another.
 */
class PgFloodsTest {

  private static final long HANDSHAKE_MS = 1000;

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    String yaml = """
        server: { watch_config: false, shutdown_grace_ms: 2000 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: pg
            protocol: postgres
            bind: 127.0.0.1:0
            cluster: c
            max_client_connections: 2
            handshake_timeout_ms: %d
            auth: { mode: terminate, users: [ { name: app, password: secret } ] }
          - name: guarded
            protocol: postgres
            bind: 127.0.0.1:0
            cluster: c
            auth_max_failures: 3
            auth_failure_window_ms: 600000
            auth_block_ms: 600000
            auth: { mode: terminate, users: [ { name: app, password: secret } ] }
        clusters:
          c:
            protocol: postgres
            credentials: { user: app, password: secret }
            backends: [ { address: %s, role: primary } ]
            pool: { mode: transaction, min_idle: 1, max_size: 4 }
            health: { interval_ms: 1000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 1000 }
        """.formatted(HANDSHAKE_MS, pg.address());
    proxy = ProxyFixture.startYaml(yaml, "pg");
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  private static int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  static Connection connect(int port, String password, String from) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", "app");
    props.setProperty("password", password);
    props.setProperty("connectTimeout", "10");
    props.setProperty("loginTimeout", "20");
    props.setProperty("socketTimeout", "60");
    props.setProperty("sslmode", "disable");
    if (from != null) {
      props.setProperty("localSocketAddress", from);
    }
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", props);
  }

  static int selectOne(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
      assertTrue(rs.next());
      return rs.getInt(1);
    }
  }

  /** A v3 StartupMessage for user and database {@code app}. */
  static byte[] startupMessage() {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (String s : new String[] {"user", "app", "database", "app"}) {
      body.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
      body.write(0);
    }
    body.write(0);
    ByteBuffer b = ByteBuffer.allocate(8 + body.size());
    b.putInt(8 + body.size()).putInt(196608).put(body.toByteArray());
    return b.array();
  }

  @Test
  void theConnectionLimitAnswers53300AndASlowlorisIsClosedWhileLoggedInClientsIdleOn() throws Exception {
    try (Connection a = connect(port("pg"), "secret", null)) {
      assertEquals(1, selectOne(a));
      try (Connection b = connect(port("pg"), "secret", null)) {
        assertEquals(2, FloodMetrics.clientConnections(proxy, "pg"));
        SQLException full = assertThrows(SQLException.class, () -> connect(port("pg"), "secret", null).close());
        assertEquals("53300", full.getSQLState(), full.toString());
        assertTrue(full.getMessage().contains("mproxy: too many client connections on listener pg"),
            full.getMessage());
        assertEquals(1, selectOne(b));
      }
      try (RawSocket slow = RawSocket.open(port("pg"))) {
        // a client trickling its StartupMessage a byte every 100 ms
        byte[] startup = startupMessage();
        int sent = slow.trickle(startup, 100);
        String answer = new String(slow.readToEnd(), StandardCharsets.UTF_8);
        assertTrue(sent < startup.length, "the proxy let the slow client send all " + startup.length + " bytes");
        assertTrue(answer.startsWith("E"), "an ErrorResponse: " + answer);
        assertTrue(answer.contains("login not completed within handshake_timeout_ms=1000"), answer);
      }
      // a logged in more than handshake_timeout_ms ago and is still served; the slot is free again
      assertEquals(1, selectOne(a));
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(1, FloodMetrics.clientConnections(proxy, "pg")));
      try (Connection c = connect(port("pg"), "secret", null)) {
        assertEquals(1, selectOne(c));
      }
    }
    assertTrue(FloodMetrics.refused(proxy, "pg", "max_connections") >= 1);
    assertTrue(FloodMetrics.refused(proxy, "pg", "handshake_timeout") >= 1);
  }

  @Test
  void wrongPasswordsBlockTheirSourceAddressWith28000() throws Exception {
    for (int i = 0; i < 3; i++) {
      SQLException e = assertThrows(SQLException.class, () -> connect(port("guarded"), "wrong", null).close());
      assertEquals("28P01", e.getSQLState(), e.toString());
    }
    SQLException blocked = assertThrows(SQLException.class, () -> connect(port("guarded"), "secret", null).close());
    assertEquals("28000", blocked.getSQLState(), blocked.toString());
    assertTrue(blocked.getMessage().contains("mproxy: too many failed logins from 127.0.0.1"), blocked.getMessage());
    try (Connection other = connect(port("guarded"), "secret", "127.0.0.2")) {
      assertEquals(1, selectOne(other), "another source address logs in");
    }
    assertEquals(3, FloodMetrics.auth(proxy, "guarded", "failed"), 0.0);
    assertEquals(1, FloodMetrics.auth(proxy, "guarded", "blocked"), 0.0);
  }
}

package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MariaDbServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Floods against MySQL listeners, through MySQL Connector/J and a real MariaDB: the connection
 * limit answers ER_CON_COUNT_ERROR (1040), a client that reads the greeting and trickles its
 * HandshakeResponse is closed at {@code handshake_timeout_ms} with an ERR packet while logged-in
 * clients idle on, and wrong passwords from one address block that address (1045) but not another.
 */
class MysqlFloodsTest {

  private static final long HANDSHAKE_MS = 1500;
  private static final String PASSWORD = "client-secret";

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    String yaml = """
        server: { watch_config: false, shutdown_grace_ms: 2000 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: my
            protocol: mysql
            bind: 127.0.0.1:0
            cluster: c
            max_client_connections: 2
            handshake_timeout_ms: %d
            auth: { mode: terminate, users: [ { name: client, password: %s } ] }
          - name: guarded
            protocol: mysql
            bind: 127.0.0.1:0
            cluster: c
            auth_max_failures: 3
            auth_failure_window_ms: 600000
            auth_block_ms: 600000
            auth: { mode: terminate, users: [ { name: client, password: %s } ] }
        clusters:
          c:
            protocol: mysql
            credentials: { user: %s, password: %s }
            database: %s
            backends: [ { address: %s, role: primary } ]
            pool: { mode: transaction, min_idle: 1, max_size: 4, acquire_timeout_ms: 10000 }
            health: { interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }
        """.formatted(HANDSHAKE_MS, PASSWORD, PASSWORD, MariaDbServer.USER, MariaDbServer.PASSWORD,
        MariaDbServer.DATABASE, db.address());
    proxy = ProxyFixture.startYaml(yaml, "my");
    // the first login of the run loads Connector/J and may make the proxy's RSA key (caching_sha2):
    // done here, on the other listener, so the handshake timeout below measures clients, not warm-up
    long t0 = System.nanoTime();
    try (Connection warm = connect(port("guarded"), PASSWORD, "127.0.0.3")) {
      selectOne(warm);
    }
    System.out.printf("[floods] first Connector/J login through the proxy: %d ms%n",
        (System.nanoTime() - t0) / 1_000_000);
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (db != null) {
      db.close();
    }
  }

  private static int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  static Connection connect(int port, String password, String from) throws SQLException {
    DriverManager.setLoginTimeout(10);
    return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + port + "/" + MariaDbServer.DATABASE
        + "?user=client&password=" + password + "&sslMode=DISABLED&allowPublicKeyRetrieval=true"
        + "&connectTimeout=10000&socketTimeout=60000"
        + (from == null ? "" : "&localSocketAddress=" + from));
  }

  static int selectOne(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
      assertTrue(rs.next());
      return rs.getInt(1);
    }
  }

  @Test
  void theConnectionLimitAnswers1040AndASlowlorisIsClosedWhileLoggedInClientsIdleOn() throws Exception {
    try (Connection a = connect(port("my"), PASSWORD, null)) {
      assertEquals(1, selectOne(a));
      try (Connection b = connect(port("my"), PASSWORD, null)) {
        assertEquals(2, FloodMetrics.clientConnections(proxy, "my"));
        SQLException full = assertThrows(SQLException.class, () -> connect(port("my"), PASSWORD, null).close());
        assertEquals(1040, full.getErrorCode(), full.toString());
        assertTrue(full.getMessage().contains("mproxy: too many client connections on listener my"),
            full.getMessage());
        assertEquals(1, selectOne(b));
      }
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(1, FloodMetrics.clientConnections(proxy, "my")));
      try (RawSocket slow = RawSocket.open(port("my"))) {
        byte[] header = slow.readExactly(4);
        int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        byte[] greeting = slow.readExactly(length);
        assertEquals(10, greeting[0], "protocol 10 greeting");
        // a HandshakeResponse41 header announcing 64 bytes, then the bytes, one every 100 ms
        byte[] response = new byte[4 + 64];
        response[0] = 64;
        response[3] = 1;
        int sent = slow.trickle(response, 100);
        byte[] answer = slow.readToEnd();
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        assertTrue(sent < response.length, "the proxy let the slow client send all " + response.length + " bytes");
        assertTrue(answer.length > 5 && (answer[4] & 0xff) == 0xff, "an ERR packet: " + text);
        assertTrue(text.contains("login not completed within handshake_timeout_ms=1500"), text);
      }
      assertEquals(1, selectOne(a), "logged in long before, idle past the timeout, still served");
    }
    assertTrue(FloodMetrics.refused(proxy, "my", "max_connections") >= 1);
    assertTrue(FloodMetrics.refused(proxy, "my", "handshake_timeout") >= 1);
  }

  @Test
  void wrongPasswordsBlockTheirSourceAddressWith1045() throws Exception {
    for (int i = 0; i < 3; i++) {
      SQLException e = assertThrows(SQLException.class, () -> connect(port("guarded"), "wrong", null).close());
      assertEquals(1045, e.getErrorCode(), e.toString());
      assertTrue(e.getMessage().contains("Access denied"), e.getMessage());
    }
    SQLException blocked = assertThrows(SQLException.class, () -> connect(port("guarded"), PASSWORD, null).close());
    assertEquals(1045, blocked.getErrorCode(), blocked.toString());
    assertTrue(blocked.getMessage().contains("mproxy: too many failed logins from 127.0.0.1"), blocked.getMessage());
    try (Connection other = connect(port("guarded"), PASSWORD, "127.0.0.2")) {
      assertEquals(1, selectOne(other), "another source address logs in");
    }
    assertEquals(3, FloodMetrics.auth(proxy, "guarded", "failed"), 0.0);
    assertEquals(1, FloodMetrics.auth(proxy, "guarded", "blocked"), 0.0);
  }
}

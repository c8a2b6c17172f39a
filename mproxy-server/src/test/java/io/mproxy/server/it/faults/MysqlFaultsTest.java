package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@link ProtocolFaultsContract} for MySQL: real MariaDB servers, MariaDB Connector/J as the
 * client; the slow request is {@code SELECT SLEEP(n)}; the kill is SIGKILL of {@code mariadbd}.
 */
class MysqlFaultsTest extends ProtocolFaultsContract {

  private static final String USER = "client";
  private static final String PASSWORD = "client-secret";

  private MariaDbServer victim;
  private MariaDbServer other;

  @Override
  String protocol() {
    return "mysql";
  }

  @Override
  void startBackends() {
    victim = MariaDbServer.start();
    other = MariaDbServer.start();
  }

  @Override
  void stopBackends() {
    try (MariaDbServer v = victim; MariaDbServer o = other) {
      // both servers
    }
  }

  @Override
  String victimAddress() {
    return victim.address();
  }

  @Override
  String otherAddress() {
    return other.address();
  }

  @Override
  void killVictim() {
    victim.stop();
  }

  @Override
  void restartVictim() {
    victim.restart();
  }

  @Override
  String poolMode() {
    return "mode: transaction, ";
  }

  @Override
  String listenerYaml(String name, String cluster) {
    return "  - name: " + name + "\n"
        + "    protocol: mysql\n"
        + "    bind: 127.0.0.1:0\n"
        + "    cluster: " + cluster + "\n"
        + "    auth: { mode: terminate, users: [ { name: " + USER + ", password: " + PASSWORD + " } ] }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: mysql\n"
        + "    credentials: { user: " + MariaDbServer.USER + ", password: " + MariaDbServer.PASSWORD + " }\n"
        + "    database: " + MariaDbServer.DATABASE + "\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  FaultClient connect(int port) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + MariaDbServer.DATABASE
        + "?user=" + USER + "&password=" + PASSWORD + "&connectTimeout=30000&socketTimeout=90000");
    return new FaultClient() {
      @Override
      public String roundTrip() throws SQLException {
        return query("SELECT 41 + 1");
      }

      @Override
      public CompletableFuture<String> slow(int seconds) {
        return CompletableFuture.supplyAsync(() -> {
          try {
            return query("SELECT CONCAT(SLEEP(" + seconds + "), ' slept')");
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        }, slowRequests);
      }

      private String query(String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
          rs.next();
          return rs.getString(1);
        }
      }

      @Override
      public void close() {
        try {
          c.close();
        } catch (SQLException ignored) {
          // already broken
        }
      }
    };
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    assertInstanceOf(SQLException.class, error, when + ": " + error);
    SQLException e = proxyError(error);
    assertTrue(e != null, when + ": an ERR packet from the proxy (in the cause chain), not a bare close: " + error);
    System.out.println("[faults] mysql " + when + ": errno " + e.getErrorCode() + " SQLSTATE " + e.getSQLState()
        + " " + oneLine(e));
  }

  /**
   * The proxy's ERR packet as Connector/J reports it: the exception itself for a query, a cause
   * for a login (the connector's start-up commands fail with it as "Initialization command fail").
   */
  private static SQLException proxyError(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getErrorCode() > 0 && String.valueOf(s.getMessage()).contains("mproxy: ")) {
        return s;
      }
    }
    return null;
  }
}

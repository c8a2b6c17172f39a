package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.postgresql.util.PSQLException;

/**
 * {@link ProtocolFaultsContract} for PostgreSQL: real Debian PostgreSQL servers, pgjdbc as the
 * client; the slow request is {@code SELECT pg_sleep(n)}; the kill is SIGKILL of the postmaster
 * (its backend processes exit when they notice).
 */
class PostgresFaultsTest extends ProtocolFaultsContract {

  private PostgresServer victim;
  private PostgresServer other;

  @Override
  String protocol() {
    return "postgres";
  }

  @Override
  void startBackends() {
    victim = PostgresServer.start();
    other = PostgresServer.start();
  }

  @Override
  void stopBackends() {
    try (PostgresServer v = victim; PostgresServer o = other) {
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
    victim.kill9();
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
        + "    protocol: postgres\n"
        + "    bind: 127.0.0.1:0\n"
        + "    cluster: " + cluster + "\n"
        + "    auth: { mode: terminate, users: [ { name: " + PostgresServer.APP_USER + ", password: "
        + PostgresServer.APP_PASSWORD + " } ] }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: postgres\n"
        + "    credentials: { user: " + PostgresServer.APP_USER + ", password: " + PostgresServer.APP_PASSWORD + " }\n"
        + "    database: " + PostgresServer.APP_DATABASE + "\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  FaultClient connect(int port) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/"
        + PostgresServer.APP_DATABASE + "?user=" + PostgresServer.APP_USER + "&password=" + PostgresServer.APP_PASSWORD
        + "&connectTimeout=10&loginTimeout=30&socketTimeout=90");
    return new FaultClient() {
      @Override
      public String roundTrip() throws SQLException {
        return query("SELECT 41 + 1");
      }

      @Override
      public CompletableFuture<String> slow(int seconds) {
        return CompletableFuture.supplyAsync(() -> {
          try {
            return query("SELECT pg_sleep(" + seconds + ")::text || 'slept'");
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
    PSQLException e = assertInstanceOf(PSQLException.class, error, when + ": " + error);
    assertNotNull(e.getServerErrorMessage(), when + ": an ErrorResponse from the proxy, not a bare close: " + e);
    assertTrue(e.getServerErrorMessage().getMessage().startsWith("mproxy: "), when + ": " + e);
    assertEquals("08006", e.getSQLState(), when + ": " + e);
    System.out.println("[faults] postgres " + when + ": SQLSTATE " + e.getSQLState() + " " + oneLine(e));
  }
}

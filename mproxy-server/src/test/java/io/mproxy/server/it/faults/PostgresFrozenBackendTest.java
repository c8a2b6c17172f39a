package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.Signals;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * A PostgreSQL backend that logged in and then stops answering (every server process frozen
 * with SIGSTOP) while a statement runs: {@code query_timeout_ms} asks it to cancel, which a
 * frozen server never does, so another {@code query_timeout_ms} later the proxy closes that
 * backend connection and the client gets FATAL 08006 instead of waiting forever. Once the server
 * is thawed, new clients are served.
 */
class PostgresFrozenBackendTest {

  private static final long QUERY_TIMEOUT_MS = 1000;

  @Test
  void queryTimeoutBoundsAStatementOnAFrozenBackend() throws Exception {
    try (PostgresServer pg = PostgresServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(yaml(pg), "pg");
        Connection c = connect(proxy)) {
      assertEquals("1", queryOne(c, "SELECT 1"));
      List<ProcessHandle> frozen = serverProcesses(pg);
      long start = System.nanoTime();
      Throwable error;
      try {
        frozen.forEach(p -> Signals.stop(p.pid()));
        CompletableFuture<String> statement = CompletableFuture.supplyAsync(() -> {
          try {
            return queryOne(c, "SELECT 2");
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        });
        error = ProtocolFaultsContract.failureWithin(statement, ProtocolFaultsContract.PROMPT,
            "a statement on a frozen backend with query_timeout_ms=" + QUERY_TIMEOUT_MS);
      } finally {
        frozen.forEach(p -> Signals.resume(p.pid()));
      }
      long ms = ProtocolFaultsContract.millisSince(start);
      PSQLException e = assertInstanceOf(PSQLException.class, error, String.valueOf(error));
      assertEquals("08006", e.getSQLState(), e.toString());
      assertTrue(e.getServerErrorMessage() != null
          && e.getServerErrorMessage().getMessage().startsWith("mproxy: "), e.toString());
      assertEquals(200, proxy.get("/healthz").status());
      try (Connection fresh = connect(proxy)) {
        assertEquals("3", queryOne(fresh, "SELECT 3"));
      }
      System.out.printf(Locale.ROOT, "[faults] postgres frozen backend, query_timeout_ms=%d: client error after %d ms"
          + " (%s)%n", QUERY_TIMEOUT_MS, ms, ProtocolFaultsContract.oneLine(e));
    }
  }

  private static String yaml(PostgresServer pg) {
    return "server: { watch_config: false, shutdown_grace_ms: 1000 }\n"
        + "admin: { bind: 127.0.0.1:0 }\n"
        + "listeners:\n"
        + "  - name: pg\n"
        + "    protocol: postgres\n"
        + "    bind: 127.0.0.1:0\n"
        + "    cluster: pg\n"
        + "    auth: { mode: terminate, users: [ { name: app, password: secret } ] }\n"
        + "    query_timeout_ms: " + QUERY_TIMEOUT_MS + "\n"
        + "clusters:\n"
        + "  pg:\n"
        + "    protocol: postgres\n"
        + "    credentials: { user: app, password: secret }\n"
        + "    database: app\n"
        + "    backends: [ { address: " + pg.address() + ", role: primary } ]\n"
        + "    pool: { mode: transaction, min_idle: 1, max_size: 4, connect_timeout_ms: 5000 }\n"
        // rare probes: a probe timing out on the frozen server would fail the statement first
        + "    health: { interval_ms: 60000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 500 }\n";
  }

  private static Connection connect(ProxyFixture proxy) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.port()
        + "/app?user=app&password=secret&connectTimeout=10&socketTimeout=60");
  }

  /** The postmaster and its children (backends, checkpointer, ...): all of them, frozen together. */
  private static List<ProcessHandle> serverProcesses(PostgresServer pg) {
    ProcessHandle postmaster = ProcessHandle.of(pg.pid()).orElseThrow();
    List<ProcessHandle> all = new ArrayList<>();
    all.add(postmaster);
    all.addAll(postmaster.children().toList());
    return all;
  }

  private static String queryOne(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

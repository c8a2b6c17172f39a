package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@code sysbench} (Debian's, on libmariadb, server-side prepared statements) through the proxy:
 * 64 threads over a transaction-mode pool of 8 for 10 s, with zero errors and zero reconnects.
 */
class SysbenchThroughProxyTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    Tools.Result prepared = Tools.sysbench(common("oltp_read_write", db.port(), MariaDbServer.USER,
        MariaDbServer.PASSWORD, List.of("prepare")), 120);
    assertEquals(0, prepared.exit(), prepared.output());
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 8, max_size: 8, acquire_timeout_ms: 30000 }")
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

  private static List<String> common(String test, int port, String user, String password, List<String> tail) {
    List<String> args = new ArrayList<>(List.of(test, "--db-driver=mysql", "--mysql-host=127.0.0.1",
        "--mysql-port=" + port, "--mysql-user=" + user, "--mysql-password=" + password,
        "--mysql-db=" + MariaDbServer.DATABASE, "--tables=4", "--table-size=10000"));
    args.addAll(tail);
    return args;
  }

  @ParameterizedTest
  @ValueSource(strings = {"oltp_read_write", "oltp_point_select"})
  void runsTenSecondsWithoutErrors(String test) {
    Tools.Result r = Tools.sysbench(common(test, proxy.port(), MysqlProxy.USER, MysqlProxy.PASSWORD,
        List.of("--threads=64", "--time=10", "--report-interval=0", "run")), 120);
    assertEquals(0, r.exit(), r.output());
    assertEquals(0, count(r.output(), "ignored errors"), r.output());
    assertEquals(0, count(r.output(), "reconnects"), r.output());
    assertTrue(count(r.output(), "transactions") > 100, r.output());
    int backends = Integer.parseInt(db.sql(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE user = '" + MariaDbServer.USER + "'"));
    assertTrue(backends <= 8 + 1, "backend connections: " + backends);
  }

  /**
   * The text protocol: every query a COM_QUERY that the proxy inspects, most answered from what it
   * remembered for the query's fingerprint. BEGIN ... COMMIT must still hold one backend connection
   * (read_write), and nothing may be refused or fail.
   */
  @ParameterizedTest
  @ValueSource(strings = {"oltp_read_write", "oltp_point_select"})
  void runsTheTextProtocolWithoutErrors(String test) {
    Tools.Result r = Tools.sysbench(common(test, proxy.port(), MysqlProxy.USER, MysqlProxy.PASSWORD,
        List.of("--db-ps-mode=disable", "--threads=64", "--time=10", "--report-interval=0", "run")), 120);
    assertEquals(0, r.exit(), r.output());
    assertEquals(0, count(r.output(), "ignored errors"), r.output());
    assertEquals(0, count(r.output(), "reconnects"), r.output());
    assertTrue(count(r.output(), "transactions") > 100, r.output());
  }

  private static long count(String output, String label) {
    Matcher m = Pattern.compile(label + ":\\s+(\\d+)").matcher(output);
    assertTrue(m.find(), "no '" + label + "' in:\n" + output);
    return Long.parseLong(m.group(1));
  }
}

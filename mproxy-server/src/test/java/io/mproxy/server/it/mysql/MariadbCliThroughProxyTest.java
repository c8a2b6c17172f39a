package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@code mariadb} command-line client through the proxy. */
class MariadbCliThroughProxyTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
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

  @Test
  void runsAScriptWithDdlTransactionsAndMultipleStatements() {
    String script = """
        CREATE TABLE cli_t (id INT PRIMARY KEY, v VARCHAR(20));
        BEGIN;
        INSERT INTO cli_t VALUES (1, 'one'), (2, 'two'), (3, 'three');
        COMMIT;
        USE app;
        SELECT v FROM cli_t WHERE id IN (1, 3) ORDER BY id;
        SELECT COUNT(*) AS n FROM cli_t; SELECT DATABASE();
        """;
    Tools.Result r = Tools.mariadbStdin(proxy.port(), MysqlProxy.USER, MysqlProxy.PASSWORD, script,
        "--batch", "--skip-column-names", "app");
    assertEquals(0, r.exit(), r.output());
    assertEquals("one\nthree\n3\napp\n", r.output());
  }

  @Test
  void showsServerErrorsAndWrongPasswords() {
    Tools.Result err = Tools.mariadb(proxy.port(), MysqlProxy.USER, MysqlProxy.PASSWORD, "app", "-e",
        "SELECT * FROM missing_table");
    assertNotEquals(0, err.exit());
    assertTrue(err.output().contains("ERROR 1146"), err.output());
    Tools.Result denied = Tools.mariadb(proxy.port(), MysqlProxy.USER, "wrong", "-e", "SELECT 1");
    assertNotEquals(0, denied.exit());
    assertTrue(denied.output().contains("ERROR 1045"), denied.output());
  }

  @Test
  void statusAndPingWork() {
    Tools.Result r = Tools.mariadb(proxy.port(), MysqlProxy.USER, MysqlProxy.PASSWORD, "app", "-e", "status");
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains("Current database:\tapp"), r.output());
    Tools.Result ping = Tools.run(java.util.List.of(
        io.mproxy.testkit.Binaries.require("mariadb-admin", "mariadb-client").toString(), "--no-defaults",
        "--protocol=TCP", "-h", "127.0.0.1", "-P", Integer.toString(proxy.port()), "-u", MysqlProxy.USER,
        "-p" + MysqlProxy.PASSWORD, "ping"), null, 30);
    assertEquals(0, ping.exit(), ping.output());
    assertTrue(ping.output().contains("mysqld is alive"), ping.output());
  }
}

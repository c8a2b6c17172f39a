package io.mproxy.server.it.mysql;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A mproxy daemon with one MySQL listener ({@value #LISTENER}) in front of a {@link MariaDbServer}:
 * clients log in as {@value #USER}/{@value #PASSWORD}; the proxy logs in to MariaDB as its
 * application user. Extra listener and cluster lines and whole sections can be added.
 */
final class MysqlProxy {

  static final String LISTENER = "mysql";
  static final String USER = "client";
  static final String PASSWORD = "client-secret";

  private final MariaDbServer db;
  private final List<String> listenerLines = new ArrayList<>();
  private final List<String> clusterLines = new ArrayList<>();
  private final List<String> extraUsers = new ArrayList<>();
  private String pool = "pool: { mode: transaction, min_idle: 1, max_size: 8, acquire_timeout_ms: 10000 }";
  private String tail = "";
  private boolean passthrough;

  MysqlProxy(MariaDbServer db) {
    this.db = db;
  }

  MysqlProxy listener(String line) {
    listenerLines.add(line);
    return this;
  }

  MysqlProxy cluster(String line) {
    clusterLines.add(line);
    return this;
  }

  MysqlProxy pool(String line) {
    pool = line;
    return this;
  }

  MysqlProxy user(String name, String password) {
    extraUsers.add("{ name: " + name + ", password: " + password + " }");
    return this;
  }

  /** A listener without {@code auth:}: clients log in to the backend themselves. */
  MysqlProxy passthrough() {
    passthrough = true;
    return this;
  }

  /** Appends top-level YAML (resource_groups:, tenants:). */
  MysqlProxy tail(String yaml) {
    tail = yaml;
    return this;
  }

  String yaml() {
    StringBuilder y = new StringBuilder();
    y.append("server: { watch_config: false, shutdown_grace_ms: 5000 }\n");
    y.append("admin: { bind: 127.0.0.1:0 }\n");
    y.append("listeners:\n");
    y.append("  - name: ").append(LISTENER).append('\n');
    y.append("    protocol: mysql\n");
    y.append("    bind: 127.0.0.1:0\n");
    y.append("    cluster: db\n");
    List<String> users = new ArrayList<>(extraUsers);
    users.add(0, "{ name: " + USER + ", password: " + PASSWORD + " }");
    if (!passthrough) {
      y.append("    auth: { mode: terminate, users: [ ").append(String.join(", ", users)).append(" ] }\n");
    }
    listenerLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append("clusters:\n");
    y.append("  db:\n");
    y.append("    protocol: mysql\n");
    y.append("    credentials: { user: ").append(MariaDbServer.USER).append(", password: ")
        .append(MariaDbServer.PASSWORD).append(" }\n");
    y.append("    database: ").append(MariaDbServer.DATABASE).append('\n');
    y.append("    backends:\n");
    y.append("      - { address: ").append(db.address()).append(", role: primary }\n");
    y.append("    ").append(pool).append('\n');
    y.append("    health: { interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }\n");
    clusterLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append(tail);
    return y.toString();
  }

  ProxyFixture start() throws Exception {
    return ProxyFixture.startYaml(yaml(), LISTENER);
  }

  static String mariadbUrl(ProxyFixture proxy, String params) {
    return "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE
        + "?user=" + USER + "&password=" + PASSWORD + (params.isEmpty() ? "" : "&" + params);
  }

  static String mysqlUrl(ProxyFixture proxy, String params) {
    return "jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE
        + "?user=" + USER + "&password=" + PASSWORD + "&sslMode=DISABLED&allowPublicKeyRetrieval=true"
        + (params.isEmpty() ? "" : "&" + params);
  }

  static Connection connect(String url) throws SQLException {
    DriverManager.setLoginTimeout(10);
    return DriverManager.getConnection(url);
  }
}

package io.mproxy.server.it.postgres;

import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Real PostgreSQL clients pointed at a port (the proxy's, or the backend's for comparison):
 * pgjdbc connections with bounded connect and socket timeouts, and the {@code psql} and
 * {@code pgbench} CLIs with the password in {@code PGPASSWORD}.
 */
final class PgClients {

  static final String HOST = "127.0.0.1";
  static final Duration CLI_TIMEOUT = Duration.ofSeconds(120);

  private PgClients() {
  }

  /** {@code jdbc:postgresql://127.0.0.1:port/app}. */
  static String url(int port) {
    return "jdbc:postgresql://" + HOST + ":" + port + "/" + PostgresServer.APP_DATABASE;
  }

  /** pgjdbc as {@code app}/{@code secret}. */
  static Connection app(int port) throws SQLException {
    return connect(port, PostgresServer.APP_USER, PostgresServer.APP_PASSWORD, Map.of());
  }

  /**
   * pgjdbc to database {@code app} with the given pgjdbc properties (e.g. {@code prepareThreshold},
   * {@code ApplicationName}, {@code sslmode}); connect within 10 s, no read blocks over 120 s.
   */
  static Connection connect(int port, String user, String password, Map<String, String> properties)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", "10");
    props.setProperty("loginTimeout", "20");
    props.setProperty("socketTimeout", "120");
    props.setProperty("sslmode", "disable");
    properties.forEach(props::setProperty);
    return DriverManager.getConnection(url(port), props);
  }

  /** The first column of the first row of {@code sql}, as text. */
  static String queryOne(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) {
        throw new AssertionError("no row from " + sql);
      }
      return rs.getString(1);
    }
  }

  /**
   * {@code psql -X -A -t -h 127.0.0.1 -p port -U user -d app args...} with {@code PGPASSWORD}; add
   * {@code "-c", sql} pairs to {@code args}. Environment entries in {@code env} are added
   * (e.g. {@code PGSSLMODE}).
   */
  static ExternalCommand.Result psql(int port, String user, String password, Map<String, String> env,
      String... args) {
    List<String> command = new ArrayList<>(List.of(PostgresServer.tool("psql").toString(), "-X", "-A", "-t",
        "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", Integer.toString(port), "-U", user,
        "-d", PostgresServer.APP_DATABASE));
    command.addAll(List.of(args));
    return ExternalCommand.run(command, environment(password, env), null, CLI_TIMEOUT);
  }

  /** {@code pgbench -h 127.0.0.1 -p port -U app args... app} with {@code PGPASSWORD=secret}. */
  static ExternalCommand.Result pgbench(int port, Duration timeout, String... args) {
    return pgbench(port, PostgresServer.APP_USER, PostgresServer.APP_PASSWORD, timeout, args);
  }

  /** {@code pgbench -h 127.0.0.1 -p port -U user args... app} with {@code PGPASSWORD}. */
  static ExternalCommand.Result pgbench(int port, String user, String password, Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(PostgresServer.tool("pgbench").toString(),
        "-h", HOST, "-p", Integer.toString(port), "-U", user));
    command.addAll(List.of(args));
    command.add(PostgresServer.APP_DATABASE);
    return ExternalCommand.run(command, environment(password, Map.of()), null, timeout);
  }

  private static Map<String, String> environment(String password, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PGPASSWORD", password);
    env.put("PGCONNECT_TIMEOUT", "10");
    env.put("PGAPPNAME", "mproxy-it");
    env.putAll(extra);
    return env;
  }
}

package io.mproxy.server.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.h2.tools.Server;

/**
 * The demo's backend: an in-memory H2 database served over the real PostgreSQL wire protocol by
 * H2's own PG server, so the demo needs nothing but a JDK and mproxy speaks to it exactly as to
 * a PostgreSQL server (cleartext password login, simple and extended query).
 *
 * <p>The database lives while this object holds its own embedded connection, whatever the
 * proxy's pool does. The PG server binds loopback only.
 */
public final class DemoBackend implements AutoCloseable {

  /** The role mproxy logs in as (the cluster's {@code credentials}). */
  public static final String USER = "demo";
  public static final String PASSWORD = "demo";
  /** The database name clients and mproxy ask for; the PG server maps it to the memory database. */
  public static final String DATABASE = "demo";
  /** Rows in {@code accounts}: enough that the batch report takes real backend time. */
  public static final int ACCOUNTS = 20_000;
  public static final int REGIONS = 16;

  /** H2's PG server needs the database in PostgreSQL mode, or it finds no {@code pg_catalog} at login. */
  private static final String PG_MODE = "MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH";

  private final Connection keeper;
  private final Server server;

  private DemoBackend(Connection keeper, Server server) {
    this.keeper = keeper;
    this.server = server;
  }

  /** Creates and fills the database and starts the PG server on {@code 127.0.0.1:port} (0: any). */
  public static DemoBackend start(int port) throws SQLException {
    // H2 reads this once, when its network utilities load: keep the PG server off other interfaces.
    System.setProperty("h2.bindAddress", "127.0.0.1");
    String memName = "mproxy_demo_" + Long.toUnsignedString(System.nanoTime(), 36);
    Connection keeper = DriverManager.getConnection(
        "jdbc:h2:mem:" + memName + ";DB_CLOSE_DELAY=-1;" + PG_MODE, USER, PASSWORD);
    Server server = null;
    boolean started = false;
    try {
      seed(keeper);
      server = Server.createPgServer("-pgPort", Integer.toString(port), "-key", DATABASE, "mem:" + memName);
      server.start();
      started = true;
      return new DemoBackend(keeper, server);
    } finally {
      if (!started) {
        if (server != null) {
          server.stop();
        }
        keeper.close();
      }
    }
  }

  private static void seed(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
          + " region INT NOT NULL, balance BIGINT NOT NULL)");
    }
    c.setAutoCommit(false);
    try (PreparedStatement p = c.prepareStatement("INSERT INTO accounts VALUES (?, ?, ?, ?)")) {
      for (int i = 1; i <= ACCOUNTS; i++) {
        p.setInt(1, i);
        p.setString(2, "customer-" + i);
        p.setInt(3, i % REGIONS);
        p.setLong(4, (i * 7919L) % 100_000);
        p.addBatch();
        if (i % 1000 == 0) {
          p.executeBatch();
        }
      }
      p.executeBatch();
    }
    c.commit();
    c.setAutoCommit(true);
  }

  /** The port the PG server listens on. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.stop();
    try {
      keeper.close();
    } catch (SQLException ignored) {
      // the database is in memory: nothing is lost
    }
  }
}

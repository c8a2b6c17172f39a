package io.mproxy.server.soak;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoSocketReadTimeoutException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.MongoServer;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.RedisServer;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * The soak: mixed traffic through one mproxy daemon to real Redis, PostgreSQL, MariaDB and
 * MongoDB (mongo-java-server) backends, each protocol driven by its real client library, while
 * backends are restarted and the configuration is reloaded, for a bounded time. Every request is
 * tallied as answered ok, answered with an error (by kind) or lost (no answer within the request
 * timeout); lost must be 0. Run by {@code bench/soak.sh} (this class's {@link #main}) and, for a
 * short time, by {@code SoakTest}.
 */
public final class Soak {

  /** What to run. */
  record Options(int seconds, int clientsPerProtocol, int faultEverySeconds, int requestTimeoutMs) {
    static Options parse(String[] args) {
      int seconds = 120;
      int clients = 2;
      int faultEvery = 10;
      int timeout = 10_000;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (a) {
          case "-t" -> seconds = positive(a, v);
          case "-c" -> clients = positive(a, v);
          case "-f" -> faultEvery = positive(a, v);
          case "--timeout-ms" -> timeout = positive(a, v);
          default -> throw new IllegalArgumentException("unknown option " + a
              + " (expected -t SECONDS, -c CLIENTS_PER_PROTOCOL, -f FAULT_EVERY_SECONDS, --timeout-ms MS)");
        }
        i++;
      }
      return new Options(seconds, clients, faultEvery, timeout);
    }

    private static int positive(String option, String value) {
      try {
        int n = Integer.parseInt(String.valueOf(value));
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(option + " " + value + " (expected: a positive integer)");
    }
  }

  private static final String CLIENT_USER = "client";
  private static final String CLIENT_PASSWORD = "client-secret";

  private Soak() {
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    System.out.printf("soak: %d s, %d clients per protocol, a fault every %d s, request timeout %d ms%n",
        options.seconds(), options.clientsPerProtocol(), options.faultEverySeconds(), options.requestTimeoutMs());
    SoakTally tally = run(options);
    System.out.print(tally.report());
    System.exit(tally.lost() == 0 && tally.ok() > 0 ? 0 : 1);
  }

  /** Starts the backends and the proxy, runs the traffic and the faults, stops everything; returns the tally. */
  static SoakTally run(Options options) throws Exception {
    SoakTally tally = new SoakTally();
    try (RedisServer redis = RedisServer.start();
        PostgresServer pg = PostgresServer.start();
        MariaDbServer maria = MariaDbServer.start();
        MongoServer mongo = MongoServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(yaml(redis, pg, maria, mongo, 1_000_000), "redis")) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.seconds());
      List<Thread> workers = new ArrayList<>();
      for (int i = 0; i < options.clientsPerProtocol(); i++) {
        workers.add(worker("redis-" + i, new RedisWorker(port(proxy, "redis"), options, tally), deadline));
        workers.add(worker("postgres-" + i, new PgWorker(port(proxy, "postgres"), options, tally), deadline));
        workers.add(worker("mysql-" + i, new MysqlWorker(port(proxy, "mysql"), options, tally), deadline));
        workers.add(worker("mongo-" + i, new MongoWorker(port(proxy, "mongo"), options, tally, i), deadline));
      }
      workers.forEach(Thread::start);
      injectFaults(options, deadline, tally, proxy, redis, pg, maria, mongo);
      long joinMillis = 2L * options.requestTimeoutMs() + 30_000;
      for (Thread w : workers) {
        w.join(joinMillis);
        if (w.isAlive()) {
          System.err.println("soak: worker " + w.getName() + " still busy after the run; its request counts as lost");
          w.interrupt();
        }
      }
      tally.settleUnresolved();
    }
    return tally;
  }

  private static int port(ProxyFixture proxy, String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  private static void injectFaults(Options options, long deadline, SoakTally tally, ProxyFixture proxy,
      RedisServer redis, PostgresServer pg, MariaDbServer maria, MongoServer mongo) throws Exception {
    int round = 0;
    long every = TimeUnit.SECONDS.toNanos(options.faultEverySeconds());
    long next = System.nanoTime() + every;
    while (true) {
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        return;
      }
      if (now - next < 0) {
        Thread.sleep(Math.min(200, TimeUnit.NANOSECONDS.toMillis(next - now) + 1));
        continue;
      }
      next += every;
      switch (round++ % 4) {
        case 0 -> {
          redis.restart();
          tally.recordFault("redis backend restart (SIGKILL)");
        }
        case 1 -> {
          proxy.rewriteConfig(yaml(redis, pg, maria, mongo, 900_000 + round));
          tally.recordFault("config file rewritten (watched)");
        }
        case 2 -> {
          pg.restart();
          tally.recordFault("postgres backend restart");
        }
        default -> {
          ProxyFixture.Http r = proxy.post("/api/reload");
          if (r.status() != 200) {
            throw new IllegalStateException("POST /api/reload answered " + r.status() + ": " + r.body());
          }
          tally.recordFault("POST /api/reload");
        }
      }
    }
  }

  static String yaml(RedisServer redis, PostgresServer pg, MariaDbServer maria, MongoServer mongo, int ruPerSec) {
    String health = "health: { interval_ms: 500, timeout_ms: 5000, retry_base_ms: 100, retry_max_ms: 500 }";
    return "server: { watch_config: true, shutdown_grace_ms: 2000 }\n"
        + "admin: { bind: 127.0.0.1:0 }\n"
        + "listeners:\n"
        + "  - { name: redis, protocol: redis, bind: 127.0.0.1:0, cluster: redis }\n"
        + "  - name: postgres\n    protocol: postgres\n    bind: 127.0.0.1:0\n    cluster: postgres\n"
        + "    auth: { mode: terminate, users: [ { name: " + CLIENT_USER + ", password: " + CLIENT_PASSWORD + " } ] }\n"
        + "    query_wait_timeout_ms: 5000\n"
        + "  - name: mysql\n    protocol: mysql\n    bind: 127.0.0.1:0\n    cluster: mysql\n"
        + "    auth: { mode: terminate, users: [ { name: " + CLIENT_USER + ", password: " + CLIENT_PASSWORD + " } ] }\n"
        + "  - { name: mongo, protocol: mongodb, bind: 127.0.0.1:0, cluster: mongo }\n"
        + "clusters:\n"
        + "  redis:\n    protocol: redis\n    backends: [ { address: " + redis.address() + ", role: primary } ]\n"
        + "    " + health + "\n"
        + "  postgres:\n    protocol: postgres\n"
        + "    credentials: { user: " + PostgresServer.APP_USER + ", password: " + PostgresServer.APP_PASSWORD + " }\n"
        + "    backends: [ { address: " + pg.address() + ", role: primary } ]\n"
        + "    pool: { mode: transaction, min_idle: 1, max_size: 8 }\n"
        + "    " + health + "\n"
        + "  mysql:\n    protocol: mysql\n"
        + "    credentials: { user: " + MariaDbServer.USER + ", password: " + MariaDbServer.PASSWORD + " }\n"
        + "    database: " + MariaDbServer.DATABASE + "\n"
        + "    backends: [ { address: " + maria.address() + ", role: primary } ]\n"
        + "    pool: { mode: transaction, min_idle: 1, max_size: 8, acquire_timeout_ms: 5000 }\n"
        + "    " + health + "\n"
        + "  mongo:\n    protocol: mongodb\n    backends: [ { address: " + mongo.address() + " } ]\n"
        + "    " + health + "\n"
        + "resource_groups:\n"
        + "  default: { ru_per_sec: " + ruPerSec + ", burst: 2000000, priority: normal, on_exhausted: reject }\n";
  }

  private static Thread worker(String name, Worker w, long deadline) {
    Thread t = new Thread(() -> {
      try {
        int i = 0;
        while (System.nanoTime() - deadline < 0 && !Thread.currentThread().isInterrupted()) {
          w.step(i++);
        }
      } finally {
        w.close();
      }
    }, "soak-" + name);
    t.setDaemon(true);
    return t;
  }

  /** One client connection of one protocol, issuing one request per step and tallying it. */
  private abstract static class Worker {
    final String protocol;
    final Options options;
    final SoakTally tally;

    Worker(String protocol, Options options, SoakTally tally) {
      this.protocol = protocol;
      this.options = options;
      this.tally = tally;
    }

    final void step(int i) {
      tally.recordSent(protocol);
      try {
        request(i);
        tally.recordOk(protocol);
      } catch (Exception e) {
        String kind = classify(e);
        if (kind == null) {
          tally.recordLost(protocol);
          System.err.println("soak: " + protocol + " request lost: " + e);
        } else {
          tally.recordError(protocol, kind);
        }
        if (kind == null || kind.equals("connection")) {
          reset();
          pause(50);
        }
      }
    }

    /** One request; throws what the client library threw. */
    abstract void request(int i) throws Exception;

    /** The error kind of an answered request, or null when the request got no answer in time. */
    abstract String classify(Exception e);

    /** Drops the connection so the next request opens a new one. */
    abstract void reset();

    abstract void close();

    static String refusedOr(String message, String kind) {
      return message != null && message.contains("mproxy:") ? "refused" : kind;
    }
  }

  private static final class RedisWorker extends Worker {
    private final RedisClient client;
    private StatefulRedisConnection<String, String> connection;

    RedisWorker(int port, Options options, SoakTally tally) {
      super("redis", options, tally);
      this.client = RedisClient.create(RedisURI.builder().withHost("127.0.0.1").withPort(port)
          .withTimeout(Duration.ofMillis(options.requestTimeoutMs())).build());
    }

    @Override
    void request(int i) {
      if (connection == null) {
        connection = client.connect();
      }
      String key = "soak:" + Thread.currentThread().getName();
      if (i % 2 == 0) {
        connection.sync().set(key, Integer.toString(i));
      } else {
        connection.sync().get(key);
      }
    }

    @Override
    String classify(Exception e) {
      if (e instanceof RedisCommandTimeoutException) {
        return null;
      }
      if (e instanceof RedisCommandExecutionException x) {
        String m = String.valueOf(x.getMessage());
        int space = m.indexOf(' ');
        return refusedOr(m, space > 0 ? m.substring(0, space) : m);
      }
      return "connection";
    }

    @Override
    void reset() {
      if (connection != null) {
        connection.closeAsync();
        connection = null;
      }
    }

    @Override
    void close() {
      reset();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  /** JDBC workers differ in the URL and in how their driver reports a timeout. */
  private abstract static class JdbcWorker extends Worker {
    private Connection connection;

    JdbcWorker(String protocol, Options options, SoakTally tally) {
      super(protocol, options, tally);
    }

    abstract Connection connect() throws SQLException;

    @Override
    void request(int i) throws SQLException {
      if (connection == null) {
        connection = connect();
      }
      try (Statement s = connection.createStatement();
          ResultSet rs = s.executeQuery(i % 2 == 0 ? "SELECT " + i : "SELECT 1 + " + i)) {
        rs.next();
      }
    }

    @Override
    String classify(Exception e) {
      if (!(e instanceof SQLException sql)) {
        return "client " + e.getClass().getSimpleName();
      }
      if (timedOut(sql)) {
        return null;
      }
      String state = sql.getSQLState();
      if (state != null && state.startsWith("08") || closed()) {
        return "connection";
      }
      return refusedOr(sql.getMessage(), "sqlstate " + state);
    }

    private static boolean timedOut(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof SocketTimeoutException || t instanceof SQLTimeoutException) {
          return true;
        }
      }
      return false;
    }

    private boolean closed() {
      try {
        return connection == null || connection.isClosed();
      } catch (SQLException e) {
        return true;
      }
    }

    @Override
    void reset() {
      close();
    }

    @Override
    void close() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException ignored) {
          // the connection is being dropped anyway
        }
        connection = null;
      }
    }
  }

  private static final class PgWorker extends JdbcWorker {
    private final int port;

    PgWorker(int port, Options options, SoakTally tally) {
      super("postgres", options, tally);
      this.port = port;
    }

    @Override
    Connection connect() throws SQLException {
      Properties p = new Properties();
      p.setProperty("user", CLIENT_USER);
      p.setProperty("password", CLIENT_PASSWORD);
      p.setProperty("sslmode", "disable");
      String seconds = Integer.toString(Math.max(1, options.requestTimeoutMs() / 1000));
      p.setProperty("connectTimeout", seconds);
      p.setProperty("loginTimeout", seconds);
      p.setProperty("socketTimeout", seconds);
      return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + PostgresServer.APP_DATABASE, p);
    }
  }

  private static final class MysqlWorker extends JdbcWorker {
    private final int port;

    MysqlWorker(int port, Options options, SoakTally tally) {
      super("mysql", options, tally);
      this.port = port;
    }

    @Override
    Connection connect() throws SQLException {
      int ms = options.requestTimeoutMs();
      return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + MariaDbServer.DATABASE
          + "?user=" + CLIENT_USER + "&password=" + CLIENT_PASSWORD + "&connectTimeout=" + ms
          + "&socketTimeout=" + ms);
    }
  }

  private static final class MongoWorker extends Worker {
    private final int port;
    private final int id;
    private MongoClient client;

    MongoWorker(int port, Options options, SoakTally tally, int id) {
      super("mongo", options, tally);
      this.port = port;
      this.id = id;
    }

    @Override
    void request(int i) {
      if (client == null) {
        int ms = options.requestTimeoutMs();
        client = com.mongodb.client.MongoClients.create(com.mongodb.MongoClientSettings.builder()
            .applyConnectionString(new com.mongodb.ConnectionString("mongodb://127.0.0.1:" + port))
            .applyToSocketSettings(s -> s.connectTimeout(ms, TimeUnit.MILLISECONDS).readTimeout(ms, TimeUnit.MILLISECONDS))
            .applyToClusterSettings(c -> c.serverSelectionTimeout(ms, TimeUnit.MILLISECONDS))
            .retryReads(false)
            .retryWrites(false)
            .build());
      }
      MongoCollection<Document> c = client.getDatabase("soak").getCollection("w" + id);
      if (i % 2 == 0) {
        c.insertOne(new Document("i", i));
      } else {
        c.find(new Document("i", i - 1)).first();
      }
    }

    @Override
    String classify(Exception e) {
      if (e instanceof MongoSocketReadTimeoutException || e instanceof MongoTimeoutException) {
        return null;
      }
      if (e instanceof MongoSocketException) {
        return "connection";
      }
      if (e instanceof MongoCommandException x) {
        return refusedOr(x.getErrorMessage(), "code " + x.getErrorCode());
      }
      if (e instanceof MongoWriteException x) {
        return refusedOr(x.getError().getMessage(), "code " + x.getError().getCode());
      }
      if (e instanceof MongoException x) {
        return refusedOr(x.getMessage(), "code " + x.getCode());
      }
      return "client " + e.getClass().getSimpleName();
    }

    @Override
    void reset() {
      close();
    }

    @Override
    void close() {
      if (client != null) {
        client.close();
        client = null;
      }
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

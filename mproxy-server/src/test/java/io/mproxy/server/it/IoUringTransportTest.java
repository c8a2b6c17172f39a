package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.mproxy.server.Transport;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.MongoServer;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.RedisServer;
import io.mproxy.testkit.TestCertificates;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One daemon on {@code server.transport: io_uring} in front of every real backend, driven by the
 * real clients: Lettuce (single commands, a 2,000-command pipelined batch, a 1 MiB value, TLS)
 * and redis-cli (plain and TLS) against redis-server; pgjdbc in simple and extended-protocol
 * mode with a 200,000-row result against PostgreSQL; MySQL Connector/J with text and server
 * prepared statements and a 50,000-row result against MariaDB; mongodb-driver-sync with a
 * batched cursor and an aggregation against mongo-java-server. Every value read through the
 * proxy is checked, and {@code /api/status} must report {@code io_uring}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class IoUringTransportTest {

  private static final String HOST = "127.0.0.1";

  private static TestCertificates certs;
  private static RedisServer redis;
  private static PostgresServer pg;
  private static MariaDbServer maria;
  private static MongoServer mongo;
  private static ProxyFixture proxy;
  private static LettuceClients lettuce;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.create();
    redis = RedisServer.start();
    pg = PostgresServer.start();
    maria = MariaDbServer.start();
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(yaml(), "redis");
    lettuce = new LettuceClients();
  }

  @AfterAll
  static void stop() throws Exception {
    try (TestCertificates c = certs; RedisServer r = redis; PostgresServer p = pg; MariaDbServer m = maria;
        MongoServer g = mongo; ProxyFixture x = proxy; LettuceClients l = lettuce) {
      // closed in reverse order: clients, proxy, backends, certificate files
    }
  }

  private static String yaml() {
    return """
        server: { watch_config: false, shutdown_grace_ms: 2000, transport: io_uring, io_threads: 2 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - { name: redis, protocol: redis, bind: 127.0.0.1:0, cluster: redis }
          - name: redis-tls
            protocol: redis
            bind: 127.0.0.1:0
            cluster: redis
            tls: { cert: %s, key: %s }
          - name: pg
            protocol: postgres
            bind: 127.0.0.1:0
            cluster: pg
            auth: { mode: terminate, users: [ { name: app, password: secret } ] }
          - name: mysql
            protocol: mysql
            bind: 127.0.0.1:0
            cluster: mysql
            auth: { mode: terminate, users: [ { name: client, password: client-secret } ] }
          - { name: mongo, protocol: mongodb, bind: 127.0.0.1:0, cluster: mongo }
        clusters:
          redis:
            protocol: redis
            backends: [ { address: %s } ]
          pg:
            protocol: postgres
            backends: [ { address: %s, role: primary } ]
            credentials: { user: app, password: secret }
            pool: { mode: transaction, min_idle: 1, max_size: 4 }
            health: { interval_ms: 1000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 1000 }
          mysql:
            protocol: mysql
            credentials: { user: %s, password: %s }
            database: %s
            backends: [ { address: %s, role: primary } ]
            pool: { mode: transaction, min_idle: 1, max_size: 4, acquire_timeout_ms: 10000 }
            health: { interval_ms: 1000, timeout_ms: 5000, retry_base_ms: 100, retry_max_ms: 500 }
          mongo:
            protocol: mongodb
            backends: [ { address: %s, role: primary } ]
        """.formatted(certs.certificate(), certs.privateKey(), redis.address(), pg.address(),
        MariaDbServer.USER, MariaDbServer.PASSWORD, MariaDbServer.DATABASE, maria.address(), mongo.address());
  }

  private static int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  @Test
  void statusAndEventLoopsReportIoUring() {
    assertEquals("io_uring", proxy.status().path("transport").asText(), proxy.status().toString());
    assertSame(Transport.IO_URING, Transport.of(proxy.daemon().server().eventLoops()));
  }

  // ---------------------------------------------------------------- Redis

  private static RedisURI uri(int port) {
    return RedisURI.builder().withHost(HOST).withPort(port).withTimeout(Duration.ofSeconds(20)).build();
  }

  @Test
  void lettuceSingleCommandsAndALargeValue() {
    RedisClient client = lettuce.client(uri(port("redis")));
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisCommands<String, String> s = c.sync();
      assertEquals("PONG", s.ping());
      assertEquals("OK", s.set("uring:k", "v1"));
      assertEquals("v1", s.get("uring:k"));
      String big = "z".repeat(1024 * 1024);
      assertEquals("OK", s.set("uring:big", big));
      assertEquals(big, s.get("uring:big"));
    }
    assertEquals(Integer.toString(1024 * 1024), redis.cli("STRLEN", "uring:big"), "the whole value reached Redis");
  }

  @Test
  void lettucePipelinedBatchIsAnsweredInOrder() {
    int n = 2_000;
    RedisClient client = lettuce.client(uri(port("redis")));
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisAsyncCommands<String, String> a = c.async();
      c.setAutoFlushCommands(false);
      List<RedisFuture<String>> sets = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        sets.add(a.set("uring:p:" + i, "value-" + i));
      }
      c.flushCommands();
      assertTrue(LettuceFutures.awaitAll(Duration.ofSeconds(60), sets.toArray(new RedisFuture[0])));
      List<RedisFuture<String>> gets = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        gets.add(a.get("uring:p:" + i));
      }
      c.flushCommands();
      assertTrue(LettuceFutures.awaitAll(Duration.ofSeconds(60), gets.toArray(new RedisFuture[0])));
      for (int i = 0; i < n; i++) {
        assertEquals("OK", sets.get(i).toCompletableFuture().join());
        assertEquals("value-" + i, gets.get(i).toCompletableFuture().join());
      }
    }
    assertEquals("value-" + (n - 1), redis.cli("GET", "uring:p:" + (n - 1)));
  }

  @Test
  void redisCliPlainAndRepeated() {
    assertEquals("OK", RedisServer.cliAt(HOST, port("redis"), "SET", "uring:cli", "from cli"));
    assertEquals("from cli", RedisServer.cliAt(HOST, port("redis"), "GET", "uring:cli"));
    String counted = RedisServer.cliAt(HOST, port("redis"), "-r", "100", "INCR", "uring:counter");
    assertEquals("100", counted.lines().reduce((x, y) -> y).orElse(""));
    assertEquals("100", redis.cli("GET", "uring:counter"));
  }

  @Test
  void tlsListenerServesLettuceAndRedisCli() {
    RedisURI tls = RedisURI.builder().withHost(HOST).withPort(port("redis-tls")).withSsl(true).withVerifyPeer(true)
        .withTimeout(Duration.ofSeconds(20)).build();
    ClientOptions options = ClientOptions.builder()
        .sslOptions(SslOptions.builder().jdkSslProvider().trustManager(certs.certificate().toFile()).build())
        .build();
    try (StatefulRedisConnection<String, String> c = lettuce.client(tls, options).connect()) {
      String big = "t".repeat(256 * 1024);
      assertEquals("OK", c.sync().set("uring:tls", big));
      assertEquals(big, c.sync().get("uring:tls"));
    }
    String ca = certs.certificate().toString();
    assertEquals("OK", RedisServer.cliAt(HOST, port("redis-tls"), "--tls", "--cacert", ca, "SET", "uring:tcli", "x"));
    assertEquals("x", RedisServer.cliAt(HOST, port("redis-tls"), "--tls", "--cacert", ca, "GET", "uring:tcli"));
    assertEquals("x", redis.cli("GET", "uring:tcli"));
  }

  // ---------------------------------------------------------------- PostgreSQL

  private static Connection pgjdbc(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "app");
    p.setProperty("password", "secret");
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "120");
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", mode);
    p.setProperty("prepareThreshold", "1");
    return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port("pg") + "/app", p);
  }

  @Test
  void pgjdbcSimpleAndPreparedQueriesAndALargeResult() throws SQLException {
    try (Connection c = pgjdbc("simple"); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 40 + 2, 'simple'")) {
        assertTrue(rs.next());
        assertEquals(42, rs.getInt(1));
        assertEquals("simple", rs.getString(2));
      }
    }
    try (Connection c = pgjdbc("extended")) {
      for (int round = 0; round < 3; round++) {
        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, md5(?::text)")) {
          ps.setInt(1, 21 + round);
          ps.setString(2, "x" + round);
          try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            assertEquals((21 + round) * 2, rs.getInt(1));
            assertEquals(32, rs.getString(2).length());
          }
        }
      }
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT g, repeat('r', 100) FROM generate_series(1, 200000) g")) {
        ps.setFetchSize(0);
        long rows = 0;
        long sum = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows++;
            sum += rs.getInt(1);
            if (rs.getString(2).length() != 100) {
              throw new AssertionError("row " + rows + " truncated");
            }
          }
        }
        assertEquals(200_000, rows);
        assertEquals(200_000L * 200_001L / 2, sum);
      }
      c.commit();
    }
  }

  // ---------------------------------------------------------------- MySQL (MariaDB)

  private static Connection connectorJ(String params) throws SQLException {
    DriverManager.setLoginTimeout(10);
    return DriverManager.getConnection("jdbc:mysql://" + HOST + ":" + port("mysql") + "/" + MariaDbServer.DATABASE
        + "?user=client&password=client-secret&sslMode=DISABLED&allowPublicKeyRetrieval=true&" + params);
  }

  @Test
  void connectorJTextPreparedAndALargeResult() throws SQLException {
    try (Connection c = connectorJ("connectTimeout=10000"); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 1 + 1, 'text'")) {
        assertTrue(rs.next());
        assertEquals(2, rs.getInt(1));
        assertEquals("text", rs.getString(2));
      }
      // MariaDB stops recursive CTEs at 1,000 iterations by default: five digit tables crossed instead
      String digits = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
          + " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
      try (ResultSet rs = s.executeQuery("SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n,"
          + " REPEAT('m', 100) FROM " + digits + " a, " + digits + " b, " + digits + " c, " + digits + " e, "
          + digits + " f WHERE f.d < 5")) {
        long rows = 0;
        long sum = 0;
        while (rs.next()) {
          rows++;
          sum += rs.getLong(1);
          assertEquals(100, rs.getString(2).length());
        }
        assertEquals(50_000, rows);
        assertEquals(50_000L * 50_001L / 2, sum);
      }
    }
    try (Connection c = connectorJ("useServerPrepStmts=true&cachePrepStmts=true")) {
      for (int i = 0; i < 3; i++) {
        try (PreparedStatement ps = c.prepareStatement("SELECT ? * 3, CONCAT('p', ?)")) {
          ps.setInt(1, 7 + i);
          ps.setString(2, "s" + i);
          try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            assertEquals((7 + i) * 3, rs.getInt(1));
            assertEquals("ps" + i, rs.getString(2));
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- MongoDB

  @Test
  void mongoDriverInsertsAndReadsABatchedCursorAndAggregates() {
    MongoClientSettings settings = MongoClientSettings.builder()
        .applyConnectionString(new com.mongodb.ConnectionString("mongodb://" + HOST + ":" + port("mongo")))
        .applyToClusterSettings(b -> b.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .applyToSocketSettings(b -> b.connectTimeout(5, TimeUnit.SECONDS).readTimeout(60, TimeUnit.SECONDS))
        .retryWrites(false).retryReads(false)
        .build();
    try (MongoClient client = MongoClients.create(settings)) {
      MongoCollection<Document> items = client.getDatabase("uring").getCollection("items");
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 5_000; i++) {
        docs.add(new Document("_id", i).append("group", i % 10).append("pad", "p".repeat(200)));
      }
      items.insertMany(docs);
      long seen = 0;
      long sum = 0;
      for (Document d : items.find().batchSize(100)) {
        seen++;
        sum += d.getInteger("_id");
      }
      assertEquals(5_000, seen);
      assertEquals(4_999L * 5_000L / 2, sum);
      Document g3 = items.aggregate(List.of(Aggregates.match(Filters.eq("group", 3)),
          Aggregates.group("$group", Accumulators.sum("n", 1)))).first();
      assertEquals(500, g3.getInteger("n"));
    }
    try (MongoClient direct = MongoClients.create("mongodb://" + mongo.address())) {
      assertEquals(5_000, direct.getDatabase("uring").getCollection("items").countDocuments(),
          "the documents reached the backend");
    }
  }
}

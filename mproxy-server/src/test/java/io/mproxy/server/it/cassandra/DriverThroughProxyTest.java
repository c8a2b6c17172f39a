package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultProtocolVersion;
import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.Node;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Apache Cassandra Java driver 4.x through the proxy against a real Cassandra 5.0 node:
 * keyspace and table creation, prepared inserts and selects, batches, paging, many concurrent
 * requests over one backend connection, protocol v4 and v5, the topology the driver sees, and a
 * wrong password.
 */
class DriverThroughProxyTest {

  private static CassandraServer node;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    node = CassandraServer.shared();
    System.out.printf("cassandra node up in %d ms, RSS %d KiB%n", node.startMillis(), node.rssKib());
    proxy = CassandraProxy.start(node, 1, "", "");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"V4", "V5"})
  void preparedStatementsBatchesAndKeyspaces(String version) {
    String ks = "ks_" + version.toLowerCase();
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, version, null)) {
      assertEquals(DefaultProtocolVersion.valueOf(version), s.getContext().getProtocolVersion());
      s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS " + ks
          + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS " + ks
          + ".items (id int PRIMARY KEY, name text, qty int)").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO " + ks + ".items (id, name, qty) VALUES (?, ?, ?)");
      for (int i = 0; i < 50; i++) {
        s.execute(insert.bind(i, "item-" + i, i * 10));
      }
      PreparedStatement select = s.prepare("SELECT name, qty FROM " + ks + ".items WHERE id = ?");
      Row row = s.execute(select.bind(7)).one();
      assertNotNull(row);
      assertEquals("item-7", row.getString("name"));
      assertEquals(70, row.getInt("qty"));

      BatchStatement batch = BatchStatement.builder(DefaultBatchType.LOGGED)
          .addStatement(insert.bind(100, "batch-a", 1))
          .addStatement(insert.bind(101, "batch-b", 2))
          .addStatement(SimpleStatement.newInstance("UPDATE " + ks + ".items SET qty = 99 WHERE id = 7"))
          .build();
      s.execute(batch);
      assertEquals("batch-b", s.execute(select.bind(101)).one().getString("name"));
      assertEquals(99, s.execute(select.bind(7)).one().getInt("qty"));
      assertEquals(52L, s.execute("SELECT count(*) FROM " + ks + ".items").one().getLong(0));

      // errors from the backend come back as themselves
      var error = assertThrows(com.datastax.oss.driver.api.core.servererrors.InvalidQueryException.class,
          () -> s.execute("SELECT * FROM " + ks + ".no_such_table"));
      assertTrue(error.getMessage().contains("no_such_table"), error.getMessage());
    }
    // USE through the driver's session keyspace: unqualified names resolve in it
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, version, ks)) {
      assertEquals("item-3", s.execute("SELECT name FROM items WHERE id = 3").one().getString(0));
      PreparedStatement p = s.prepare("SELECT qty FROM items WHERE id = ?");
      assertEquals(20, s.execute(p.bind(2)).one().getInt(0));
    }
  }

  @Test
  void driverSeesOnlyTheProxy() {
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null)) {
      assertEquals(DefaultProtocolVersion.V5, s.getContext().getProtocolVersion(), "negotiated");
      Collection<Node> nodes = s.getMetadata().getNodes().values();
      assertEquals(1, nodes.size(), nodes.toString());
      Node only = nodes.iterator().next();
      assertEquals(new InetSocketAddress("127.0.0.1", proxy.port()), only.getEndPoint().resolve());
      assertEquals(0, s.execute("SELECT * FROM system.peers_v2").all().size());
      assertEquals(0, s.execute("SELECT * FROM system.peers").all().size());
      Row local = s.execute("SELECT rpc_address, rpc_port, release_version FROM system.local").one();
      assertEquals("127.0.0.1", local.getInetAddress("rpc_address").getHostAddress());
      assertEquals(proxy.port(), local.getInt("rpc_port"));
      assertTrue(local.getString("release_version").startsWith("5."), local.getString("release_version"));
    }
  }

  @Test
  void pagedQueryOverFiveThousandRows() throws Exception {
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null)) {
      createKeyspace(s, "paging");
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS paging.rows (p int, c int, v text,"
          + " PRIMARY KEY (p, c))").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO paging.rows (p, c, v) VALUES (0, ?, ?)");
      List<CompletableFuture<AsyncResultSet>> window = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        window.add(s.executeAsync(insert.bind(i, "v" + i)).toCompletableFuture());
        if (window.size() == 100) {
          CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
          window.clear();
        }
      }
      CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      ResultSet rs = s.execute(SimpleStatement.newInstance("SELECT c, v FROM paging.rows WHERE p = 0").setPageSize(500));
      int count = 0;
      int last = -1;
      for (Row r : rs) {
        assertEquals(last + 1, r.getInt("c"));
        assertEquals("v" + r.getInt("c"), r.getString("v"));
        last = r.getInt("c");
        count++;
      }
      assertEquals(5000, count);
      // 500-row pages: 10 full ones, and Cassandra may answer an 11th, empty one when the count is exact
      int pages = rs.getExecutionInfos().size();
      assertTrue(pages == 10 || pages == 11, "one round trip per page, paging state passed through: " + pages);
    }
  }

  @Test
  void twoHundredConcurrentRequestsOverOneBackendConnection() throws Exception {
    try (ProxyFixture proxy = CassandraProxy.start(node, 1, "", "");
        CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, "V5", null)) {
      createKeyspace(s, "conc");
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS conc.kv (k int PRIMARY KEY, v int)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO conc.kv (k, v) VALUES (?, ?)");
      PreparedStatement select = s.prepare("SELECT v FROM conc.kv WHERE k = ?");
      List<CompletionStage<AsyncResultSet>> writes = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        writes.add(s.executeAsync(insert.bind(i, i * 3)));
      }
      for (CompletionStage<AsyncResultSet> w : writes) {
        w.toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
      List<CompletableFuture<AsyncResultSet>> reads = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        reads.add(s.executeAsync(select.bind(i)).toCompletableFuture());
      }
      for (int i = 0; i < 200; i++) {
        Row r = reads.get(i).get(60, TimeUnit.SECONDS).one();
        assertNotNull(r, "row " + i);
        assertEquals(i * 3, r.getInt(0), "each answer matched to its own request");
      }
      var pool = proxy.status().path("clusters").get(0).path("backends").get(0).path("pool");
      int open = pool.path("idle").asInt() + pool.path("active").asInt() + pool.path("opening").asInt();
      assertTrue(open <= 1, "max_size 1 and one variant (v5, no keyspace): " + pool);
      long completed = proxy.status().path("clusters").get(0).path("backends").get(0).path("completed").asLong();
      assertTrue(completed >= 400, "every request went through the one backend connection: " + completed);
    }
  }

  /**
   * A burst from one client packs onto one backend connection per event loop (as a driver uses
   * one connection per node) instead of opening every connection max_size allows: the requests
   * stay on their client's loop and reach the node together.
   */
  @Test
  void aBurstPacksOntoOneBackendConnectionPerEventLoop() throws Exception {
    String yaml = CassandraProxy.yaml(node.address(), "{ watch_config: false, shutdown_grace_ms: 5000, io_threads: 2 }",
        4, "", "", "", "");
    try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, CassandraProxy.LISTENER);
        CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, "V5", null)) {
      createKeyspace(s, "pack");
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS pack.kv (k int PRIMARY KEY, v int)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO pack.kv (k, v) VALUES (?, ?)");
      PreparedStatement select = s.prepare("SELECT v FROM pack.kv WHERE k = ?");
      for (int round = 0; round < 5; round++) {
        List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          writes.add(s.executeAsync(insert.bind(i, i + round)).toCompletableFuture());
        }
        for (CompletableFuture<AsyncResultSet> w : writes) {
          w.get(60, TimeUnit.SECONDS);
        }
        List<CompletableFuture<AsyncResultSet>> reads = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          reads.add(s.executeAsync(select.bind(i)).toCompletableFuture());
        }
        for (int i = 0; i < 300; i++) {
          assertEquals(i + round, reads.get(i).get(60, TimeUnit.SECONDS).one().getInt(0), "row " + i);
        }
      }
      var pool = proxy.status().path("clusters").get(0).path("backends").get(0).path("pool");
      int open = pool.path("idle").asInt() + pool.path("active").asInt() + pool.path("opening").asInt();
      assertTrue(open <= 2, "bursts of 300 from one client with max_size 4 and two event loops: at most one"
          + " connection per loop, not one per burst of load: " + pool);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"V4", "V5"})
  void largeValuesSpanSegmentsBothWays(String version) {
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, version, null)) {
      createKeyspace(s, "blobs");
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS blobs.b (k int PRIMARY KEY, v blob)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      byte[] big = new byte[400_000];   // > 128 KiB: in v5 both the request and the answer span segments
      new java.util.Random(7).nextBytes(big);
      PreparedStatement insert = s.prepare("INSERT INTO blobs.b (k, v) VALUES (?, ?)");
      s.execute(insert.bind(1, java.nio.ByteBuffer.wrap(big)));
      java.nio.ByteBuffer back = s.execute("SELECT v FROM blobs.b WHERE k = 1").one().getByteBuffer(0);
      byte[] got = new byte[back.remaining()];
      back.get(got);
      org.junit.jupiter.api.Assertions.assertArrayEquals(big, got);
    }
  }

  @Test
  void useOfAMissingKeyspaceGetsTheServersErrorAndChangesNothing() {
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null)) {
      var e = assertThrows(com.datastax.oss.driver.api.core.servererrors.InvalidQueryException.class,
          () -> s.execute("USE no_such_keyspace"));
      assertTrue(e.getMessage().contains("no_such_keyspace"), e.getMessage());
      assertEquals(1, s.execute("SELECT release_version FROM system.local").all().size());
    }
  }

  @Test
  void wrongPasswordIsRefused() {
    AllNodesFailedException e = assertThrows(AllNodesFailedException.class,
        () -> CassandraProxy.session(proxy, CassandraProxy.USER, "wrong", null, null).close());
    assertTrue(e.toString().contains("Provided username app and/or password are incorrect"), e.toString());
  }

  static void createKeyspace(CqlSession s, String ks) {
    s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS " + ks
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
  }
}

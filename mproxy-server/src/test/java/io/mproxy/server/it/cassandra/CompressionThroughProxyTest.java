package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultProtocolVersion;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Java driver with {@code advanced.protocol.compression = lz4} through the proxy, on v4
 * (compressed frame bodies) and v5 (compressed segments), against two proxies in front of the
 * same node: one that talks to the node without compression and one with
 * {@code compression: lz4} on the cluster, so each side's compression is chosen apart.
 */
class CompressionThroughProxyTest {

  private static CassandraServer node;
  private static ProxyFixture plainBackend;
  private static ProxyFixture lz4Backend;

  @BeforeAll
  static void start() throws Exception {
    node = CassandraServer.shared();
    plainBackend = CassandraProxy.start(node, 2, "", "", "");
    lz4Backend = CassandraProxy.start(node, 2, "", "    compression: lz4\n", "");
  }

  @AfterAll
  static void stop() {
    if (plainBackend != null) {
      plainBackend.close();
    }
    if (lz4Backend != null) {
      lz4Backend.close();
    }
  }

  @ParameterizedTest(name = "backend {0}, client lz4 on {1}")
  @CsvSource({"none, V4", "none, V5", "lz4, V4", "lz4, V5"})
  void ddlPreparedPagingBatchesAndLargeBlobs(String backend, String version) {
    ProxyFixture proxy = backend.equals("lz4") ? lz4Backend : plainBackend;
    String ks = "lz4_" + backend + "_" + version.toLowerCase();
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, version, null,
        true, "lz4")) {
      assertEquals(DefaultProtocolVersion.valueOf(version), s.getContext().getProtocolVersion());
      assertTrue(compressor(s).getClass().getSimpleName().contains("Lz4"),
          "the driver compresses: " + compressor(s));
      s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS " + ks
          + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS " + ks
          + ".blobs (id int PRIMARY KEY, data blob, note text)").setTimeout(CassandraProxy.REQUEST_TIMEOUT));

      // 400 KB values, one compressible, one not: both span several v5 segments each way
      Random random = new Random(version.hashCode());
      byte[] noise = new byte[400 * 1024];
      random.nextBytes(noise);
      byte[] text = new byte[400 * 1024];
      for (int i = 0; i < text.length; i++) {
        text[i] = (byte) ('a' + (i / 7) % 26);
      }
      PreparedStatement insert = s.prepare("INSERT INTO " + ks + ".blobs (id, data, note) VALUES (?, ?, ?)");
      s.execute(insert.bind(1, ByteBuffer.wrap(noise), "noise"));
      s.execute(insert.bind(2, ByteBuffer.wrap(text), "text"));
      PreparedStatement select = s.prepare("SELECT data, note FROM " + ks + ".blobs WHERE id = ?");
      Row one = s.execute(select.bind(1)).one();
      assertNotNull(one);
      assertArrayEquals(noise, bytes(one.getByteBuffer("data")));
      Row two = s.execute(select.bind(2)).one();
      assertArrayEquals(text, bytes(two.getByteBuffer("data")));
      assertEquals("text", two.getString("note"));

      // paging: 300 small rows in pages of 40, paging state through compressed frames
      BatchStatement batch = BatchStatement.builder(DefaultBatchType.UNLOGGED).build();
      for (int i = 10; i < 310; i++) {
        batch = batch.add(insert.bind(i, ByteBuffer.wrap(new byte[] {(byte) i}), "row-" + i));
        if (batch.size() == 50) {
          s.execute(batch);
          batch = BatchStatement.builder(DefaultBatchType.UNLOGGED).build();
        }
      }
      ResultSet rs = s.execute(SimpleStatement.newInstance("SELECT id, note FROM " + ks + ".blobs").setPageSize(40));
      int rows = 0;
      for (Row r : rs) {
        if (r.getInt("id") >= 10) {
          assertEquals("row-" + r.getInt("id"), r.getString("note"));
        }
        rows++;
      }
      assertEquals(302, rows);
      assertTrue(rs.getExecutionInfos().size() >= 8, "pages: " + rs.getExecutionInfos().size());
    }
  }

  /** The node's own view of the proxy's connections: only the lz4 proxy asked it for LZ4. */
  @Test
  void backendConnectionsAskTheNodeForLz4OnlyWhenConfigured() {
    try (CqlSession s = CassandraProxy.session(lz4Backend, CassandraProxy.USER, CassandraProxy.PASSWORD, "V5", null,
        false, null)) {
      s.execute("SELECT release_version FROM system.local");
      int lz4 = 0;
      int plain = 0;
      for (Row r : s.execute("SELECT client_options FROM system_views.clients")) {
        Map<String, String> options = r.getMap("client_options", String.class, String.class);
        if (options == null || options.containsKey("DRIVER_NAME")) {
          continue; // the driver's own direct connections, if any
        }
        if ("lz4".equals(options.get("COMPRESSION"))) {
          lz4++;
        } else {
          plain++;
        }
      }
      assertTrue(lz4 >= 1, "connections of the lz4 proxy: " + lz4);
      assertTrue(plain >= 1, "connections of the plain proxy: " + plain);
    }
    // the same driver without compression on the lz4 proxy: the client side stays uncompressed
    try (CqlSession s = CassandraProxy.session(lz4Backend, CassandraProxy.USER, CassandraProxy.PASSWORD, "V4", null,
        false, null)) {
      assertTrue(!compressor(s).getClass().getSimpleName().contains("Lz4"),
          "no compression asked: " + compressor(s));
      assertEquals(1, s.execute("SELECT release_version FROM system.local").all().size());
    }
  }

  /** The driver's compressor for the session's connections (an internal API, for this check only). */
  private static Object compressor(CqlSession s) {
    return ((com.datastax.oss.driver.internal.core.context.InternalDriverContext) s.getContext()).getCompressor();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}

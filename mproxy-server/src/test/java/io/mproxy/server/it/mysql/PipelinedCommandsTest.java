package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands a client sends back to back, cut into two writes at every byte: the session frames the
 * client's bytes itself, so a packet cut anywhere (in its header or body) must be joined, and the
 * commands that arrive while one is running on the backend must be kept and answered in order. A
 * COM_PING between two queries is answered by the proxy itself: answered before the query in
 * front of it finished, its OK would come first; dropped, the read times out.
 */
class PipelinedCommandsTest {

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

  private static void packet(ByteArrayOutputStream out, byte[] payload) {
    out.write(payload.length);
    out.write(payload.length >> 8);
    out.write(payload.length >> 16);
    out.write(0);
    out.writeBytes(payload);
  }

  private static byte[] query(String sql) {
    byte[] s = sql.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[s.length + 1];
    p[0] = 0x03;
    System.arraycopy(s, 0, p, 1, s.length);
    return p;
  }

  /** Reads one text result set of one column and one row; returns the row's value. */
  private static String readOneValue(RawMysqlClient raw) throws Exception {
    RawMysqlClient.Packet count = raw.read();
    assertEquals(1, count.header(), "a result set of one column, got: " + count.text());
    raw.read();   // the column definition
    assertEquals(0xFE, raw.read().header(), "EOF after the column definitions");
    RawMysqlClient.Packet row = raw.read();
    int len = row.payload()[0] & 0xFF;
    String value = new String(row.payload(), 1, len, StandardCharsets.UTF_8);
    assertEquals(0xFE, raw.read().header(), "EOF after the row");
    return value;
  }

  @Test
  void commandsCutAtEveryByteAreAnsweredWholeAndInOrder() throws Exception {
    try (RawMysqlClient raw = new RawMysqlClient(proxy.port())) {
      raw.login(MysqlProxy.USER, MysqlProxy.PASSWORD);
      ByteArrayOutputStream probe = new ByteArrayOutputStream();
      packet(probe, query("SELECT 100000"));
      packet(probe, new byte[] {0x0E});
      packet(probe, query("SELECT 200000"));
      int length = probe.size();
      for (int cut = 1; cut < length; cut++) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        packet(wire, query("SELECT " + (100000 + cut)));
        packet(wire, new byte[] {0x0E});   // COM_PING
        packet(wire, query("SELECT " + (200000 + cut)));
        byte[] bytes = wire.toByteArray();
        assertEquals(length, bytes.length);
        raw.writeRaw(bytes, 0, cut);
        raw.writeRaw(bytes, cut, bytes.length - cut);
        assertEquals(String.valueOf(100000 + cut), readOneValue(raw), "first query, cut at " + cut);
        RawMysqlClient.Packet pong = raw.read();
        assertEquals(0, pong.header(), "the ping's OK after the first answer, cut at " + cut + ": " + pong.text());
        assertEquals(String.valueOf(200000 + cut), readOneValue(raw), "second query, cut at " + cut);
      }
    }
  }
}

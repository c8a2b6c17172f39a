package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The order of the bytes a client receives, message by message, when several requests arrive in
 * one write and their answers mix relayed runs (RowDescription, DataRow, CommandComplete…) with
 * the messages the proxy looks at (ReadyForQuery, ErrorResponse, NoticeResponse, notifications,
 * CopyOutResponse) and with rows too large to be copied into a gathering buffer. Both ends of the
 * proxy gather small writes into one buffer per event-loop tick; these tests fail if a gathered
 * part is written after a later one, or a message is lost or duplicated.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgAnswerOrderTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withListener("auth_method: md5")
        .withPool("transaction", 1, 3)
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  /** Five extended-protocol requests in one write: a NOTICE, a 3000-byte row and an error in the middle. */
  @Test
  void pipelinedExtendedBatchKeepsEveryAnswerInOrder() throws Exception {
    try (PgWire wire = login()) {
      Batch b = new Batch();
      b.parse("", "SELECT 1").bind("", "").describePortal().execute().sync();
      b.parse("", "DO $$ BEGIN RAISE NOTICE 'in the middle'; END $$").bind("", "").execute().sync();
      b.parse("", "SELECT repeat('x', 3000)").bind("", "").describePortal().execute().sync();
      b.parse("", "SELECT 1/0").bind("", "").execute().sync();
      b.parse("", "SELECT 2").bind("", "").describePortal().execute().sync();
      wire.send(b.bytes());
      assertEquals(List.of(
          "1", "2", "T", "D:1", "C:SELECT 1", "Z:I",
          "1", "2", "N:in the middle", "C:DO", "Z:I",
          "1", "2", "T", "D:x*3000", "C:SELECT 1", "Z:I",
          "1", "E:22012", "Z:I", // the constant 1/0 is folded when the portal is planned, at Bind
          "1", "2", "T", "D:2", "C:SELECT 1", "Z:I"), trace(wire, 5));
    }
  }

  /** A named statement bound three times in one write (the proxy rewrites each Bind); the middle one fails. */
  @Test
  void pipelinedBindsOfANamedStatementKeepTheirOrder() throws Exception {
    try (PgWire wire = login()) {
      wire.send(new Batch().parse("plus_one", "SELECT $1::int + 1").sync().bytes());
      assertEquals(List.of("1", "Z:I"), trace(wire, 1));
      Batch b = new Batch();
      b.bind("", "plus_one", "41").execute().sync();
      b.bind("", "plus_one", "not a number").execute().sync();
      b.bind("", "plus_one", "1").execute().sync();
      b.bind("", "plus_one", "-1").execute().sync();
      wire.send(b.bytes());
      assertEquals(List.of(
          "2", "D:42", "C:SELECT 1", "Z:I",
          "E:22P02", "Z:I",
          "2", "D:2", "C:SELECT 1", "Z:I",
          "2", "D:0", "C:SELECT 1", "Z:I"), trace(wire, 4));
    }
  }

  /** Simple queries in one write, an error between two results. */
  @Test
  void pipelinedSimpleQueriesWithAnErrorKeepTheirOrder() throws Exception {
    try (PgWire wire = login()) {
      wire.send(new Batch().query("SELECT 'a'").query("SELECT 1/0").query("SELECT 'c'").bytes());
      assertEquals(List.of(
          "T", "D:a", "C:SELECT 1", "Z:I",
          "E:22012", "Z:I",
          "T", "D:c", "C:SELECT 1", "Z:I"), trace(wire, 3));
    }
  }

  /** COPY OUT of 2000 rows, then a query in the same write: every CopyData in order, then the query's answer. */
  @Test
  void copyOutFollowedByAQueryKeepsEveryRowInOrder() throws Exception {
    try (PgWire wire = login()) {
      wire.send(new Batch()
          .query("COPY (SELECT g FROM generate_series(1, 2000) g) TO STDOUT")
          .query("SELECT 'after'").bytes());
      List<String> got = trace(wire, 2);
      List<String> expected = new ArrayList<>();
      expected.add("H");
      for (int i = 1; i <= 2000; i++) {
        expected.add("d:" + i + "\n");
      }
      expected.addAll(List.of("c", "C:COPY 2000", "Z:I", "T", "D:after", "C:SELECT 1", "Z:I"));
      assertEquals(expected, got);
    }
  }

  /** A session's own NOTIFY is delivered between the NOTIFY's CommandComplete and its ReadyForQuery. */
  @Test
  void notificationsArriveBetweenTheAnswersTheyBelongTo() throws Exception {
    try (PgWire wire = login()) {
      wire.send(new Batch()
          .query("LISTEN order_test")
          .query("NOTIFY order_test, 'one'")
          .query("SELECT 'x'")
          .query("NOTIFY order_test, 'two'")
          .query("SELECT 'y'").bytes());
      assertEquals(List.of(
          "C:LISTEN", "Z:I",
          "C:NOTIFY", "A:order_test=one", "Z:I",
          "T", "D:x", "C:SELECT 1", "Z:I",
          "C:NOTIFY", "A:order_test=two", "Z:I",
          "T", "D:y", "C:SELECT 1", "Z:I"), trace(wire, 5));
    }
  }

  /** Another client's notification reaches the idle listener on its own, then its next answer follows. */
  @Test
  void anotherClientsNotificationReachesAnIdleListener() throws Exception {
    try (PgWire listener = login(); PgWire notifier = login()) {
      listener.send(new Batch().query("LISTEN from_peer").bytes());
      assertEquals(List.of("C:LISTEN", "Z:I"), trace(listener, 1));
      notifier.send(new Batch().query("NOTIFY from_peer, 'hello'").bytes());
      assertEquals(List.of("C:NOTIFY", "Z:I"), trace(notifier, 1));
      PgWire.Message first = listener.read().orElseThrow(() -> new AssertionError("listener closed"));
      assertEquals("A:from_peer=hello", describe(first));
      listener.send(new Batch().query("SELECT 'next'").bytes());
      assertEquals(List.of("T", "D:next", "C:SELECT 1", "Z:I"), trace(listener, 1));
    }
  }

  private static PgWire login() throws IOException {
    PgWire wire = PgWire.connect(proxy.port());
    wire.loginMd5("app", "secret", "app");
    return wire;
  }

  /** The messages up to the {@code readies}-th ReadyForQuery, each described by {@link #describe}. */
  private static List<String> trace(PgWire wire, int readies) throws IOException {
    List<String> out = new ArrayList<>();
    int seen = 0;
    while (seen < readies) {
      PgWire.Message m = wire.read().orElseThrow(() -> new AssertionError("connection closed after " + out));
      out.add(describe(m));
      if (m.type() == 'Z') {
        seen++;
      }
      assertTrue(out.size() < 10_000, () -> "runaway answer: " + out.subList(0, 50));
    }
    return out;
  }

  /** A message as a short string: type, and the field that tells it apart. */
  private static String describe(PgWire.Message m) {
    byte[] b = m.body();
    return switch (m.type()) {
      case 'Z' -> "Z:" + (char) b[0];
      case 'C' -> "C:" + cstring(b, 0);
      case 'E' -> "E:" + m.fields().get('C');
      case 'N' -> "N:" + m.fields().get('M');
      case 'd' -> "d:" + new String(b, StandardCharsets.UTF_8);
      case 'A' -> {
        String channel = cstring(b, 4);
        int at = 4 + channel.getBytes(StandardCharsets.UTF_8).length + 1;
        yield "A:" + channel + "=" + cstring(b, at);
      }
      case 'D' -> {
        int length = m.int32(2);
        String v = new String(b, 6, length, StandardCharsets.UTF_8);
        yield v.length() > 20 && v.chars().allMatch(c -> c == v.charAt(0)) ? "D:" + v.charAt(0) + "*" + v.length() : "D:" + v;
      }
      default -> String.valueOf(m.type());
    };
  }

  private static String cstring(byte[] b, int from) {
    int end = from;
    while (end < b.length && b[end] != 0) {
      end++;
    }
    return new String(b, from, end - from, StandardCharsets.UTF_8);
  }

  /** Frontend messages gathered into one write. */
  private static final class Batch {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Batch query(String sql) {
      return message('Q', cstr(sql));
    }

    Batch parse(String name, String sql) {
      return message('P', concat(cstr(name), cstr(sql), new byte[] {0, 0}));
    }

    /** A Bind of {@code statement} to {@code portal} with text parameters and text results. */
    Batch bind(String portal, String statement, String... params) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.writeBytes(cstr(portal));
      body.writeBytes(cstr(statement));
      body.writeBytes(new byte[] {0, 0}); // parameter formats: all text
      body.writeBytes(ByteBuffer.allocate(2).putShort((short) params.length).array());
      for (String p : params) {
        byte[] v = p.getBytes(StandardCharsets.UTF_8);
        body.writeBytes(ByteBuffer.allocate(4).putInt(v.length).array());
        body.writeBytes(v);
      }
      body.writeBytes(new byte[] {0, 0}); // result formats: all text
      return message('B', body.toByteArray());
    }

    Batch describePortal() {
      return message('D', concat(new byte[] {'P'}, cstr("")));
    }

    Batch execute() {
      return message('E', concat(cstr(""), new byte[] {0, 0, 0, 0}));
    }

    Batch sync() {
      return message('S', new byte[0]);
    }

    byte[] bytes() {
      return bytes.toByteArray();
    }

    private Batch message(char type, byte[] body) {
      bytes.write(type);
      bytes.writeBytes(ByteBuffer.allocate(4).putInt(4 + body.length).array());
      bytes.writeBytes(body);
      return this;
    }

    private static byte[] cstr(String s) {
      return concat(s.getBytes(StandardCharsets.UTF_8), new byte[] {0});
    }

    private static byte[] concat(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] p : parts) {
        out.writeBytes(p);
      }
      return out.toByteArray();
    }
  }
}

package io.mproxy.protocol.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mproxy.core.config.Priority;
import io.mproxy.core.hint.QueryHints;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Where CQL requests carry hints: comments of QUERY and PREPARE text, the remembered text of a
 * prepared id for EXECUTE, the first hinted statement of a BATCH, and the custom payload's
 * {@code mproxy} entry (which wins). Bodies built as the v4 specification lays them out.
 */
class CqlHintsTest {

  private final PreparedStatements prepared = new PreparedStatements(16);

  private static CqlFrame frame(int opcode, boolean payload, String payloadText, ByteBuf message) {
    ByteBuf body = Unpooled.buffer();
    if (payload) {
      body.writeShort(2);
      CqlWire.writeString(body, "other");
      body.writeInt(3).writeBytes(new byte[] {1, 2, 3});
      CqlWire.writeString(body, "mproxy");
      byte[] v = payloadText.getBytes(StandardCharsets.UTF_8);
      body.writeInt(v.length).writeBytes(v);
    }
    body.writeBytes(message);
    return new CqlFrame(4, false, payload ? CqlFrame.FLAG_CUSTOM_PAYLOAD : 0, 1, opcode, body);
  }

  private static ByteBuf query(String cql) {
    ByteBuf b = Unpooled.buffer();
    CqlWire.writeLongString(b, cql);
    return b.writeShort(1).writeByte(0);
  }

  private QueryHints hints(CqlFrame f) {
    try {
      return CqlRequestInfo.of(f, prepared).hints();
    } finally {
      f.release();
    }
  }

  @Test
  void queryAndPrepareTextComments() {
    QueryHints h = hints(frame(CqlOpcode.QUERY, false, null,
        query("/* mproxy: priority=low group=batch timeout_ms=500 */ SELECT * FROM ks.t")));
    assertEquals(Priority.LOW, h.priority());
    assertEquals("batch", h.group());
    assertEquals(500, h.timeoutMs());
    assertEquals("reports", hints(frame(CqlOpcode.PREPARE, false, null,
        query("/*+ RESOURCE_GROUP(reports) */ SELECT * FROM ks.t WHERE k = ?"))).group());
    assertSame(QueryHints.NONE, hints(frame(CqlOpcode.QUERY, false, null,
        query("SELECT * FROM ks.t /* mproxy: priority=low */"))), "only comments before the first keyword");
  }

  @Test
  void executeCarriesThePreparedTextsHints() {
    byte[] id = {9, 8, 7};
    prepared.put(id, new PreparedStatements.Entry(null, "/* mproxy: priority=high */ SELECT v FROM ks.t WHERE k = ?"));
    ByteBuf exec = Unpooled.buffer();
    CqlWire.writeShortBytes(exec, id);
    exec.writeShort(1).writeByte(0);
    assertEquals(Priority.HIGH, hints(frame(CqlOpcode.EXECUTE, false, null, exec)).priority());
    ByteBuf unknown = Unpooled.buffer();
    CqlWire.writeShortBytes(unknown, new byte[] {1});
    unknown.writeShort(1).writeByte(0);
    assertSame(QueryHints.NONE, hints(frame(CqlOpcode.EXECUTE, false, null, unknown)));
  }

  @Test
  void executeReusesWhatItsPrepareWorkedOut() {
    byte[] id = {4, 2};
    PreparedStatements.Entry entry = new PreparedStatements.Entry(null, "SELECT v FROM ks.t WHERE k = ?");
    prepared.put(id, entry);
    for (int i = 0; i < 2; i++) {
      ByteBuf exec = Unpooled.buffer();
      CqlWire.writeShortBytes(exec, id);
      exec.writeShort(1).writeByte(0);
      CqlFrame f = frame(CqlOpcode.EXECUTE, false, null, exec);
      try {
        CqlRequestInfo info = CqlRequestInfo.of(f, prepared);
        // the statement text is read once, when prepared: every EXECUTE gets that same info
        assertSame(entry.execute(), info);
        assertSame(entry.statement(), info.statement());
        assertEquals("SELECT", info.command());
        assertEquals(io.mproxy.core.request.RequestKind.READ, info.kind());
        assertEquals(CqlStatement.fingerprint("SELECT v FROM ks.t WHERE k = ?"), info.fingerprint());
      } finally {
        f.release();
      }
    }
  }

  @Test
  void batchTakesItsFirstHintedStatement() {
    byte[] id = {5};
    prepared.put(id, new PreparedStatements.Entry(null, "/* mproxy: group=writes */ INSERT INTO ks.t (k) VALUES (?)"));
    ByteBuf b = Unpooled.buffer();
    b.writeByte(0).writeShort(3);
    b.writeByte(0);
    CqlWire.writeLongString(b, "INSERT INTO ks.t (k) VALUES (1)");
    b.writeShort(0);
    b.writeByte(1);
    CqlWire.writeShortBytes(b, id);
    b.writeShort(1).writeInt(4).writeInt(2);
    b.writeByte(0);
    CqlWire.writeLongString(b, "/* mproxy: group=other */ INSERT INTO ks.t (k) VALUES (3)");
    b.writeShort(0);
    b.writeShort(1).writeByte(0);
    assertEquals("writes", hints(frame(CqlOpcode.BATCH, false, null, b)).group());
  }

  @Test
  void customPayloadWinsOverComments() {
    QueryHints h = hints(frame(CqlOpcode.QUERY, true, "priority=low timeout_ms=250",
        query("/* mproxy: priority=high */ SELECT * FROM ks.t")));
    assertEquals(Priority.LOW, h.priority());
    assertEquals(250, h.timeoutMs());
    assertNull(h.group());
    QueryHints prefixed = hints(frame(CqlOpcode.QUERY, true, "mproxy: group=batch", query("SELECT 1 FROM ks.t")));
    assertEquals("batch", prefixed.group());
    // a payload without an mproxy key leaves the comment's hints
    ByteBuf body = Unpooled.buffer();
    body.writeShort(1);
    CqlWire.writeString(body, "tracing-tag");
    body.writeInt(-1);
    body.writeBytes(query("/* mproxy: priority=high */ SELECT * FROM ks.t"));
    CqlFrame f = new CqlFrame(4, false, CqlFrame.FLAG_CUSTOM_PAYLOAD, 1, CqlOpcode.QUERY, body);
    assertEquals(Priority.HIGH, hints(f).priority());
  }
}

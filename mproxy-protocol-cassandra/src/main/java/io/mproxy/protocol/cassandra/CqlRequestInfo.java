package io.mproxy.protocol.cassandra;

import io.mproxy.core.hint.HintParser;
import io.mproxy.core.hint.QueryHints;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A QUERY, PREPARE, EXECUTE or BATCH as the core chain sees it, read from the frame body without
 * consuming it: the statement (for text), the kind and fingerprint. EXECUTE takes the info the
 * proxy worked out once when it saw the statement prepared (the text is not parsed again per
 * request); an id it never saw is metered as a read with the id as fingerprint.
 *
 * <p>Hints: the leading {@code /* mproxy: … *}{@code /} or {@code /*+ RESOURCE_GROUP(x) *}{@code /}
 * comments of a QUERY's or PREPARE's text, of the prepared text for every EXECUTE of its id, of
 * the first statement of a BATCH that has any; or the custom payload's {@code mproxy} entry
 * ({@code k=v} text), which wins over comments when present.
 */
record CqlRequestInfo(String command, RequestKind kind, String fingerprint, CqlStatement statement,
    String query, String keyspace, QueryHints hints) {

  private static final int MAX_BATCH_FINGERPRINT = 1024;
  /** The custom payload key whose value is hint text ({@code priority=low timeout_ms=500}). */
  static final String PAYLOAD_KEY = "mproxy";

  /** @throws RuntimeException (codec exception or index out of bounds) when the body is malformed */
  static CqlRequestInfo of(CqlFrame frame, PreparedStatements prepared) {
    ByteBuf b = frame.body().duplicate();
    QueryHints payloadHints = QueryHints.NONE;
    if ((frame.flags() & CqlFrame.FLAG_CUSTOM_PAYLOAD) != 0) {
      String text = CqlWire.readBytesMapText(b, PAYLOAD_KEY);
      if (text != null) {
        payloadHints = HintParser.fromDirective(text, false);
      }
    }
    CqlRequestInfo info = statement(frame, b, prepared);
    return payloadHints == QueryHints.NONE ? info : info.withHints(payloadHints);
  }

  private static CqlRequestInfo statement(CqlFrame frame, ByteBuf b, PreparedStatements prepared) {
    switch (frame.opcode()) {
      case CqlOpcode.QUERY: {
        String q = CqlWire.readLongString(b);
        CqlStatement s = CqlStatement.of(q);
        return new CqlRequestInfo(s.verb().isEmpty() ? "QUERY" : s.verb(), s.kind(), s.fingerprint(), s, q, null,
            hintsOf(q));
      }
      case CqlOpcode.PREPARE: {
        String q = CqlWire.readLongString(b);
        CqlStatement s = CqlStatement.of(q);
        String keyspace = null;
        if (frame.version() >= 5 && b.readableBytes() >= 4 && (b.readInt() & 0x01) != 0) {
          keyspace = CqlWire.readString(b);
        }
        return new CqlRequestInfo("PREPARE", RequestKind.READ, "PREPARE " + s.fingerprint(), s, q, keyspace,
            hintsOf(q));
      }
      case CqlOpcode.EXECUTE: {
        byte[] id = CqlWire.readShortBytes(b);
        PreparedStatements.Entry e = prepared.get(id);
        if (e == null) {
          return new CqlRequestInfo("EXECUTE", RequestKind.READ, "EXECUTE " + hex(id), null, null, null,
              QueryHints.NONE);
        }
        return e.execute(); // read once when the statement was prepared, not again per EXECUTE
      }
      case CqlOpcode.BATCH:
        return batch(b, frame.version(), prepared);
      default:
        throw new IllegalArgumentException("not a statement: " + CqlOpcode.name(frame.opcode()));
    }
  }

  /** The same request with other hints (the custom payload's win over the statement text's). */
  CqlRequestInfo withHints(QueryHints h) {
    return new CqlRequestInfo(command, kind, fingerprint, statement, query, keyspace, h);
  }

  /** What every EXECUTE of a prepared {@code query} is, worked out once when it is prepared. */
  static CqlRequestInfo execute(CqlStatement s, String query, QueryHints hints) {
    return new CqlRequestInfo(s.verb().isEmpty() ? "EXECUTE" : s.verb(), s.kind(), s.fingerprint(), s, query, null,
        hints);
  }

  /** The hints in the comments before a statement's first token (CQL comments as SQL's). */
  static QueryHints hintsOf(String cql) {
    return HintParser.fromSql(SqlDialect.POSTGRES, cql);
  }

  private static CqlRequestInfo batch(ByteBuf b, int version, PreparedStatements prepared) {
    b.readUnsignedByte(); // LOGGED, UNLOGGED or COUNTER
    int n = b.readUnsignedShort();
    Set<String> shapes = new LinkedHashSet<>();
    QueryHints hints = QueryHints.NONE;
    for (int i = 0; i < n; i++) {
      int kind = b.readUnsignedByte();
      QueryHints h;
      if (kind == 0) {
        String q = CqlWire.readLongString(b);
        shapes.add(CqlStatement.fingerprint(q));
        h = hintsOf(q);
      } else {
        byte[] id = CqlWire.readShortBytes(b);
        PreparedStatements.Entry e = prepared.get(id);
        shapes.add(e != null ? e.statement().fingerprint() : "EXECUTE " + hex(id));
        h = e != null ? e.hints() : QueryHints.NONE;
      }
      if (hints == QueryHints.NONE) {
        hints = h; // the batch takes the first statement's hints that has any
      }
      int values = b.readUnsignedShort();
      for (int v = 0; v < values; v++) {
        CqlWire.skipValue(b);
      }
    }
    StringBuilder fp = new StringBuilder("BATCH ");
    for (String s : shapes) {
      if (fp.length() + s.length() > MAX_BATCH_FINGERPRINT) {
        fp.append(" ...");
        break;
      }
      fp.append(fp.length() > 6 ? "; " : "").append(s);
    }
    return new CqlRequestInfo("BATCH", RequestKind.WRITE, fp.toString(), null, null, null, hints);
  }

  static String hex(byte[] id) {
    return io.netty.buffer.ByteBufUtil.hexDump(id);
  }
}

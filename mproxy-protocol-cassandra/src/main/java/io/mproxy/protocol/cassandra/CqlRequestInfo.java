package io.mproxy.protocol.cassandra;

import io.mproxy.core.request.RequestKind;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A QUERY, PREPARE, EXECUTE or BATCH as the core chain sees it, read from the frame body without
 * consuming it: the statement (for text), the prepared id (EXECUTE), the kind and fingerprint.
 * EXECUTE takes kind and fingerprint of the statement the proxy saw prepared; an id it never saw
 * is metered as a read with the id as fingerprint.
 */
record CqlRequestInfo(String command, RequestKind kind, String fingerprint, CqlStatement statement,
    String query, byte[] preparedId, String keyspace) {

  private static final int MAX_BATCH_FINGERPRINT = 1024;

  /** @throws RuntimeException (codec exception or index out of bounds) when the body is malformed */
  static CqlRequestInfo of(CqlFrame frame, PreparedStatements prepared) {
    ByteBuf b = frame.body().duplicate();
    if ((frame.flags() & CqlFrame.FLAG_CUSTOM_PAYLOAD) != 0) {
      CqlWire.skipBytesMap(b);
    }
    switch (frame.opcode()) {
      case CqlOpcode.QUERY: {
        String q = CqlWire.readLongString(b);
        CqlStatement s = CqlStatement.of(q);
        return new CqlRequestInfo(s.verb().isEmpty() ? "QUERY" : s.verb(), s.kind(), s.fingerprint(), s, q, null, null);
      }
      case CqlOpcode.PREPARE: {
        String q = CqlWire.readLongString(b);
        CqlStatement s = CqlStatement.of(q);
        String keyspace = null;
        if (frame.version() >= 5 && b.readableBytes() >= 4 && (b.readInt() & 0x01) != 0) {
          keyspace = CqlWire.readString(b);
        }
        return new CqlRequestInfo("PREPARE", RequestKind.READ, "PREPARE " + s.fingerprint(), s, q, null, keyspace);
      }
      case CqlOpcode.EXECUTE: {
        byte[] id = CqlWire.readShortBytes(b);
        PreparedStatements.Entry e = prepared.get(id);
        if (e == null) {
          return new CqlRequestInfo("EXECUTE", RequestKind.READ, "EXECUTE " + hex(id), null, null, id, null);
        }
        CqlStatement s = CqlStatement.of(e.query());
        return new CqlRequestInfo(s.verb().isEmpty() ? "EXECUTE" : s.verb(), s.kind(), s.fingerprint(), s, e.query(), id,
            null);
      }
      case CqlOpcode.BATCH:
        return batch(b, frame.version(), prepared);
      default:
        throw new IllegalArgumentException("not a statement: " + CqlOpcode.name(frame.opcode()));
    }
  }

  private static CqlRequestInfo batch(ByteBuf b, int version, PreparedStatements prepared) {
    b.readUnsignedByte(); // LOGGED, UNLOGGED or COUNTER
    int n = b.readUnsignedShort();
    Set<String> shapes = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      int kind = b.readUnsignedByte();
      if (kind == 0) {
        shapes.add(CqlStatement.fingerprint(CqlWire.readLongString(b)));
      } else {
        byte[] id = CqlWire.readShortBytes(b);
        PreparedStatements.Entry e = prepared.get(id);
        shapes.add(e != null ? CqlStatement.fingerprint(e.query()) : "EXECUTE " + hex(id));
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
    return new CqlRequestInfo("BATCH", RequestKind.WRITE, fp.toString(), null, null, null, null);
  }

  static String hex(byte[] id) {
    return io.netty.buffer.ByteBufUtil.hexDump(id);
  }
}

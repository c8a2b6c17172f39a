package io.mproxy.protocol.postgres;

import io.mproxy.core.sql.SqlClassification;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * A named prepared statement a client created with Parse. In transaction pooling the client's
 * name is private to it; on backends the statement lives under a name derived from its text and
 * parameter types ({@link #serverName()}), so every client that prepares the same statement shares
 * one server-side statement per backend connection, as PgBouncer 1.21 does.
 *
 * @param paramTypes the Parse message's parameter-type section (count and oids), unpooled copy
 * @param classification what the statement does, for metering and pinning
 */
record PgStatement(String clientName, String serverName, String sql, ByteBuf paramTypes,
    SqlClassification classification, String fingerprint) {

  /** Classified and fingerprinted once here, not on every execution. */
  static PgStatement of(String clientName, String sql, ByteBuf paramTypesSection) {
    byte[] types = ByteBufUtil.getBytes(paramTypesSection);
    return new PgStatement(clientName, serverName(sql, types), sql, Unpooled.wrappedBuffer(types).asReadOnly(),
        PgSql.classify(sql), PgSql.fingerprint(sql));
  }

  /** A 128-bit name from the text and types: equal statements share it, others never collide in practice. */
  static String serverName(String sql, byte[] types) {
    long h1 = 0xcbf29ce484222325L;
    long h2 = 0x9e3779b97f4a7c15L;
    byte[] text = sql.getBytes(StandardCharsets.UTF_8);
    for (byte b : text) {
      h1 = (h1 ^ (b & 0xff)) * 0x100000001b3L;
      h2 = Long.rotateLeft(h2 ^ (b & 0xff), 31) * 0xbf58476d1ce4e5b9L;
    }
    h1 ^= 0xff;
    for (byte b : types) {
      h1 = (h1 ^ (b & 0xff)) * 0x100000001b3L;
      h2 = Long.rotateLeft(h2 ^ (b & 0xff), 31) * 0xbf58476d1ce4e5b9L;
    }
    h2 ^= text.length * 0x94d049bb133111ebL + types.length;
    return "mp_" + Long.toHexString(h1) + "_" + Long.toHexString(h2);
  }
}

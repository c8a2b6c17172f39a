package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.MysqlBuf;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.Map;

/**
 * A client's HandshakeResponse41 (or the SSLRequest that precedes it under TLS), or the
 * credentials of a COM_CHANGE_USER, decoded.
 *
 * @param sslRequest true when the packet is only the 32-byte SSLRequest
 */
record ClientAuth(int caps, int extCaps, int collation, String user, byte[] authResponse, String database,
    String plugin, Map<String, String> attributes, boolean sslRequest) {

  /** Decodes the packet; throws {@link IndexOutOfBoundsException} when it is cut short. */
  static ClientAuth parse(ByteBuf payload) {
    ByteBuf b = payload.duplicate();
    int caps = b.readIntLE();
    if ((caps & Mysql.CLIENT_PROTOCOL_41) == 0) {
      return new ClientAuth(caps, 0, 0, "", new byte[0], null, null, Map.of(), false);
    }
    b.skipBytes(4);
    int collation = b.readUnsignedByte();
    b.skipBytes(19);
    // MariaDB clients (CLIENT_MYSQL clear) put their extended capabilities in the last 4 reserved bytes
    int ext = b.readIntLE();
    if ((caps & Mysql.CLIENT_MYSQL) != 0) {
      ext = 0;
    }
    if (!b.isReadable() && (caps & Mysql.CLIENT_SSL) != 0) {
      return new ClientAuth(caps, ext, collation, null, null, null, null, Map.of(), true);
    }
    String user = MysqlBuf.readNulString(b);
    byte[] auth;
    if ((caps & Mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
      auth = MysqlBuf.readLenencBytes(b);
    } else if ((caps & Mysql.CLIENT_SECURE_CONNECTION) != 0) {
      auth = new byte[b.readUnsignedByte()];
      b.readBytes(auth);
    } else {
      auth = MysqlBuf.readNulBytes(b);
    }
    String db = null;
    if ((caps & Mysql.CLIENT_CONNECT_WITH_DB) != 0 && b.isReadable()) {
      db = MysqlBuf.readNulString(b);
      if (db.isEmpty()) {
        db = null;
      }
    }
    String plugin = null;
    if ((caps & Mysql.CLIENT_PLUGIN_AUTH) != 0 && b.isReadable()) {
      plugin = MysqlBuf.readNulString(b);
    }
    return new ClientAuth(caps, ext, collation, user, auth == null ? new byte[0] : auth, db, plugin,
        attributes(b, caps), false);
  }

  /**
   * Decodes a COM_CHANGE_USER payload (command byte included) sent by a client that logged in
   * with {@code caps} and {@code extCaps}; {@code collation} is kept when the packet names none. Throws
   * {@link IndexOutOfBoundsException} when it is cut short.
   */
  static ClientAuth parseChangeUser(ByteBuf payload, int caps, int extCaps, int collation) {
    ByteBuf b = payload.duplicate();
    b.skipBytes(1);
    String user = MysqlBuf.readNulString(b);
    byte[] auth;
    if ((caps & Mysql.CLIENT_SECURE_CONNECTION) != 0) {
      auth = new byte[b.readUnsignedByte()];
      b.readBytes(auth);
    } else {
      auth = MysqlBuf.readNulBytes(b);
    }
    String db = b.isReadable() ? MysqlBuf.readNulString(b) : "";
    int charset = collation;
    if (b.readableBytes() >= 2) {
      charset = b.readUnsignedShortLE() & 0xFF;
    }
    String plugin = null;
    if ((caps & Mysql.CLIENT_PLUGIN_AUTH) != 0 && b.isReadable()) {
      plugin = MysqlBuf.readNulString(b);
    }
    Map<String, String> attrs = attributes(b, caps);
    return new ClientAuth(caps, extCaps, charset, user, auth == null ? new byte[0] : auth, db.isEmpty() ? null : db,
        plugin, attrs, false);
  }

  private static Map<String, String> attributes(ByteBuf b, int caps) {
    Map<String, String> attrs = new HashMap<>();
    if ((caps & Mysql.CLIENT_CONNECT_ATTRS) != 0 && b.isReadable()) {
      long len = MysqlBuf.readLenenc(b);
      ByteBuf a = b.readSlice((int) Math.min(len, b.readableBytes()));
      while (a.isReadable() && attrs.size() < 64) {
        String k = MysqlBuf.readLenencString(a);
        String v = MysqlBuf.readLenencString(a);
        attrs.put(k, v);
      }
    }
    return Map.copyOf(attrs);
  }

  /** The application name for tenant matching: {@code program_name}, else {@code _client_name}. */
  String application() {
    String p = attributes.get("program_name");
    return p != null && !p.isEmpty() ? p : attributes.get("_client_name");
  }
}

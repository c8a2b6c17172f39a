package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.ColumnMetadata;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the proxy knows about the session state of one backend connection: the server thread id
 * (for KILL QUERY), the current schema, the session variable assignments applied since login or
 * the last COM_RESET_CONNECTION, and the statements prepared on it (by SQL text, a bounded LRU
 * cache). Only the session that holds the connection's exclusive lease touches it.
 */
final class MysqlBackend {

  /** Prepared statements kept per backend connection; the least recently used is closed beyond. */
  static final int MAX_STATEMENTS = 256;

  /** One server-side prepared statement. */
  static final class Statement {
    final long id;
    /** The parameter types bound last on this statement (the server keeps them between executes). */
    byte[] types;
    /**
     * Under metadata caching: the column definitions the server last sent for this statement on
     * this connection (at its prepare, or with an execute's result), which it will not send again
     * while they stay the same; null when not tracked.
     */
    ColumnMetadata meta;

    Statement(long id, ColumnMetadata meta) {
      this.id = id;
      this.meta = meta;
    }
  }

  /**
   * What a passthrough client needs from the server's greeting to log in itself: the nonce, the
   * auth plugin, the sequence id its HandshakeResponse must carry on this connection (2 after a
   * TLS upgrade, else 1) and whether the connection is upgraded to TLS before it.
   */
  record Greeting(byte[] nonce, String plugin, int responseSeq, boolean encrypted) {
  }

  final MysqlBackendHandler handler;
  final Variant variant;
  final long threadId;
  final String serverVersion;
  final int serverCaps;
  /** MariaDB's extended capabilities from the server's greeting (0 from MySQL). */
  int serverExtCaps;
  /**
   * MARIADB_CLIENT_CACHE_METADATA was negotiated: every column count carries a "metadata follows"
   * byte and an execute may skip the column definitions; {@link Statement#meta} tracks what the
   * server believes this connection has seen.
   */
  boolean cacheMetadata;
  /** The schema in use, or null when unknown (after a reset). */
  String schema;
  final List<String> assignments = new ArrayList<>();
  /** Only on a connection opened for a passthrough client, until that client has logged in. */
  final Greeting greeting;
  final LinkedHashMap<String, Statement> statements = new LinkedHashMap<>(16, 0.75f, true);
  /** Statements evicted from the cache and not yet closed on the server. */
  final List<Long> toClose = new ArrayList<>();
  /** The session holding the exclusive lease, told when the connection closes; null between leases. */
  volatile MysqlSession holder;
  /** Whether the close listener that tells {@link #holder} is installed (once per connection). */
  boolean closeWatched;

  MysqlBackend(MysqlBackendHandler handler, Variant variant, long threadId, String serverVersion,
      int serverCaps, String schema) {
    this(handler, variant, threadId, serverVersion, serverCaps, schema, null);
  }

  MysqlBackend(MysqlBackendHandler handler, Variant variant, long threadId, String serverVersion,
      int serverCaps, String schema, Greeting greeting) {
    this.greeting = greeting;
    this.handler = handler;
    this.variant = variant;
    this.threadId = threadId;
    this.serverVersion = serverVersion;
    this.serverCaps = serverCaps;
    this.schema = schema;
  }

  Statement statement(String sql) {
    return statements.get(sql);
  }

  /** Remembers a statement prepared on this connection; an older one for the same SQL is closed. */
  void remember(String sql, long id, ColumnMetadata meta) {
    Statement old = statements.put(sql, new Statement(id, meta));
    if (old != null && old.id != id) {
      toClose.add(old.id);
    }
    if (statements.size() > MAX_STATEMENTS) {
      Map.Entry<String, Statement> eldest = statements.entrySet().iterator().next();
      toClose.add(eldest.getValue().id);
      statements.remove(eldest.getKey());
    }
  }

  /** COM_RESET_CONNECTION ran: no statements, no assignments, schema unknown. */
  void resetDone() {
    statements.clear();
    toClose.clear();
    assignments.clear();
    schema = null;
  }
}

package io.mproxy.protocol.mysql;

import io.mproxy.core.cluster.Cluster;
import io.mproxy.protocol.mysql.codec.Mysql;

/**
 * The client capabilities that change what a server sends or how it runs statements, plus the
 * connection collation: backend connections are pooled per variant, so a client always gets a
 * connection that speaks exactly its dialect of the protocol (EOF packets or not, session-state
 * info in OK packets, multi-statements, found-rows counting). The most common variant is the
 * cluster's default pool, kept at {@code min_idle}.
 */
record Variant(int caps, int collation) {

  /** Capabilities that are part of the variant. */
  static final int MASK = Mysql.CLIENT_FOUND_ROWS | Mysql.CLIENT_IGNORE_SPACE | Mysql.CLIENT_MULTI_STATEMENTS
      | Mysql.CLIENT_MULTI_RESULTS | Mysql.CLIENT_PS_MULTI_RESULTS | Mysql.CLIENT_SESSION_TRACK
      | Mysql.CLIENT_DEPRECATE_EOF;

  /** utf8mb4_general_ci. */
  static final int DEFAULT_COLLATION = 45;

  /** What the default pool speaks: the capabilities current connectors and sysbench ask for. */
  static final Variant DEFAULT = new Variant(Mysql.CLIENT_MULTI_STATEMENTS | Mysql.CLIENT_MULTI_RESULTS
      | Mysql.CLIENT_PS_MULTI_RESULTS | Mysql.CLIENT_SESSION_TRACK | Mysql.CLIENT_DEPRECATE_EOF,
      DEFAULT_COLLATION);

  static Variant of(int clientCaps, int collation) {
    return new Variant(clientCaps & MASK, collation);
  }

  /** The pool variant name. */
  String key() {
    if (equals(DEFAULT)) {
      return Cluster.DEFAULT_VARIANT;
    }
    return Integer.toHexString(caps) + "/" + collation;
  }

  static Variant parse(String key) {
    if (key == null || key.isEmpty()) {
      return DEFAULT;
    }
    int slash = key.indexOf('/');
    return new Variant(Integer.parseInt(key.substring(0, slash), 16), Integer.parseInt(key.substring(slash + 1)));
  }

  boolean deprecateEof() {
    return (caps & Mysql.CLIENT_DEPRECATE_EOF) != 0;
  }
}

package io.mproxy.protocol.mysql;

import io.mproxy.core.cluster.Cluster;
import io.mproxy.protocol.mysql.codec.Mysql;

/**
 * The client capabilities that change what a server sends, plus the connection collation:
 * backend connections are pooled per variant, so a client always gets a connection that speaks
 * exactly its dialect of the protocol (EOF packets or not, session-state info in OK packets,
 * found-rows counting). Backends always allow multi-statements and multiple results (the proxy
 * refuses multi-statement text from clients that did not ask for it) and never ignore spaces
 * before parentheses, so those capabilities do not split the pools. The most common variant is
 * the cluster's default pool, kept at {@code min_idle}.
 */
record Variant(int caps, int collation) {

  /** Capabilities that are part of the variant. */
  static final int MASK = Mysql.CLIENT_FOUND_ROWS | Mysql.CLIENT_SESSION_TRACK | Mysql.CLIENT_DEPRECATE_EOF;

  /** utf8mb4_general_ci. */
  static final int DEFAULT_COLLATION = 45;

  /**
   * What the default pool speaks: what libmariadb clients ask for (sysbench, PHP and Python
   * drivers built on it): session tracking, classic EOF packets, utf8mb4. MariaDB Connector/J is
   * {@code 1800002/45} (found rows, deprecate EOF), MySQL Connector/J {@code 1000002/45}.
   */
  static final Variant DEFAULT = new Variant(Mysql.CLIENT_SESSION_TRACK, DEFAULT_COLLATION);

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

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
record Variant(int caps, int extCaps, int collation) {

  /** Capabilities that are part of the variant. */
  static final int MASK = Mysql.CLIENT_FOUND_ROWS | Mysql.CLIENT_SESSION_TRACK | Mysql.CLIENT_DEPRECATE_EOF;

  /**
   * MariaDB extended capabilities that are part of the variant (and the only ones the proxy
   * offers): metadata caching changes every result set's column count packet.
   */
  static final int EXT_MASK = Mysql.MARIADB_CLIENT_CACHE_METADATA;

  /** utf8mb4_general_ci. */
  static final int DEFAULT_COLLATION = 45;

  /**
   * What the default pool speaks: what libmariadb clients ask for of a MariaDB backend (sysbench,
   * PHP and Python drivers built on it): session tracking, classic EOF packets, metadata caching,
   * utf8mb4. MariaDB Connector/J is {@code 1800002/45/m10} (found rows, deprecate EOF, metadata
   * caching), MySQL Connector/J {@code 1000002/45}.
   */
  static final Variant DEFAULT = new Variant(Mysql.CLIENT_SESSION_TRACK, Mysql.MARIADB_CLIENT_CACHE_METADATA,
      DEFAULT_COLLATION);

  static Variant of(int clientCaps, int clientExtCaps, int collation) {
    return new Variant(clientCaps & MASK, clientExtCaps & EXT_MASK, collation);
  }

  /** The pool variant name: {@code caps/collation}, plus {@code /m<extended caps>} when there are any. */
  String key() {
    if (equals(DEFAULT)) {
      return Cluster.DEFAULT_VARIANT;
    }
    String key = Integer.toHexString(caps) + "/" + collation;
    return extCaps == 0 ? key : key + "/m" + Integer.toHexString(extCaps);
  }

  static Variant parse(String key) {
    if (key == null || key.isEmpty()) {
      return DEFAULT;
    }
    String[] parts = key.split("/");
    int ext = parts.length > 2 && parts[2].startsWith("m") ? Integer.parseInt(parts[2].substring(1), 16) : 0;
    return new Variant(Integer.parseInt(parts[0], 16), ext, Integer.parseInt(parts[1]));
  }

  boolean deprecateEof() {
    return (caps & Mysql.CLIENT_DEPRECATE_EOF) != 0;
  }

  boolean cacheMetadata() {
    return (extCaps & Mysql.MARIADB_CLIENT_CACHE_METADATA) != 0;
  }
}

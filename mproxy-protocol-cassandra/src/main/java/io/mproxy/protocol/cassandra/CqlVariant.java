package io.mproxy.protocol.cassandra;

import io.mproxy.core.cluster.Cluster;

/**
 * What a pooled backend connection is set up for: the protocol version (message bodies differ
 * between v4 and v5, so a client's frames go to a connection of its own version) and the
 * keyspace its handshake selected with {@code USE} (the keyspace is connection state in
 * Cassandra; sharing one connection among clients of different keyspaces would mix them up).
 * v5 without a keyspace is the cluster's default variant, the one kept warm and probed.
 */
record CqlVariant(int version, String keyspace) {

  private static final char SEPARATOR = '|';

  static CqlVariant parse(String variant) {
    if (variant == null || variant.equals(Cluster.DEFAULT_VARIANT)) {
      return new CqlVariant(5, null);
    }
    int bar = variant.indexOf(SEPARATOR);
    String v = bar < 0 ? variant : variant.substring(0, bar);
    String ks = bar < 0 ? null : variant.substring(bar + 1);
    return new CqlVariant(Integer.parseInt(v.substring(1)), ks);
  }

  /** The pool variant name: {@code ""} for v5 without keyspace, else {@code v4}, {@code v5|ks}… */
  String name() {
    if (version == 5 && keyspace == null) {
      return Cluster.DEFAULT_VARIANT;
    }
    return "v" + version + (keyspace == null ? "" : SEPARATOR + keyspace);
  }
}

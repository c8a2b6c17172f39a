package io.mproxy.protocol.cassandra;

import io.mproxy.core.hint.QueryHints;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the proxy learnt from PREPARE answers, cluster-wide: prepared id → the statement text and
 * the keyspace it was prepared in. A backend that answers UNPREPARED for an id (it restarted, evicted
 * it, or never saw it because the PREPARE went to another backend) is sent that PREPARE again, so
 * prepared ids work on every backend. Bounded (least recently used entries go first); thread-safe.
 */
final class PreparedStatements {

  /**
   * One prepared statement: how to prepare it again, and what every EXECUTE of it is (kind,
   * fingerprint, the hints in its text), read from the text once here rather than per request.
   */
  record Entry(String keyspace, String query, QueryHints hints, CqlStatement statement, CqlRequestInfo execute) {

    Entry(String keyspace, String query) {
      this(keyspace, query, CqlRequestInfo.hintsOf(query), CqlStatement.of(query));
    }

    private Entry(String keyspace, String query, QueryHints hints, CqlStatement statement) {
      this(keyspace, query, hints, statement, CqlRequestInfo.execute(statement, query, hints));
    }
  }

  private final int capacity;
  private final Map<Key, Entry> entries;

  PreparedStatements(int capacity) {
    this.capacity = capacity;
    this.entries = new LinkedHashMap<>(256, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
        return size() > PreparedStatements.this.capacity;
      }
    };
  }

  synchronized void put(byte[] id, Entry entry) {
    entries.put(new Key(id), entry);
  }

  synchronized Entry get(byte[] id) {
    return entries.get(new Key(id));
  }

  synchronized int size() {
    return entries.size();
  }

  /** A prepared id as a map key (arrays compare by identity). */
  private record Key(byte[] id) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(id, k.id);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(id);
    }
  }
}

package io.mproxy.protocol.mongo;

import io.mproxy.core.balance.Backend;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which backend owns what, for one cluster: open cursors (so {@code getMore}/{@code killCursors}
 * reach the server that holds the cursor) and logical sessions in a transaction (so every
 * statement and the commit reach the server that runs it). Drivers spread one session's
 * operations over several of their connections, so this is shared by all client connections of
 * the cluster rather than kept per connection.
 *
 * <p>Both maps are bounded LRUs: the oldest entry goes when one is full (its cursor or
 * transaction is most likely abandoned; the server reports CursorNotFound or NoSuchTransaction
 * if it was not). Thread-safe.
 */
final class RoutingDirectory {

  static final int MAX_CURSORS = 100_000;
  static final int MAX_TRANSACTIONS = 100_000;

  private final Lru<Long> cursors;
  private final Lru<String> transactions;

  RoutingDirectory() {
    this(MAX_CURSORS, MAX_TRANSACTIONS);
  }

  RoutingDirectory(int maxCursors, int maxTransactions) {
    this.cursors = new Lru<>(maxCursors);
    this.transactions = new Lru<>(maxTransactions);
  }

  void cursorOpened(long cursorId, Backend owner) {
    if (cursorId != 0) {
      synchronized (cursors) {
        cursors.put(cursorId, owner);
      }
    }
  }

  void cursorClosed(long cursorId) {
    synchronized (cursors) {
      cursors.remove(cursorId);
    }
  }

  /** The backend that owns {@code cursorId}, or null when unknown. */
  Backend cursorOwner(long cursorId) {
    synchronized (cursors) {
      return cursors.get(cursorId);
    }
  }

  int openCursors() {
    synchronized (cursors) {
      return cursors.size();
    }
  }

  void transactionStarted(String lsid, Backend owner) {
    synchronized (transactions) {
      transactions.put(lsid, owner);
    }
  }

  /** The backend running the transaction of session {@code lsid}, or null. */
  Backend transactionOwner(String lsid) {
    synchronized (transactions) {
      return transactions.get(lsid);
    }
  }

  /** A bounded access-ordered map. */
  private static final class Lru<K> extends LinkedHashMap<K, Backend> {
    private static final long serialVersionUID = 1L;
    private final int max;

    Lru(int max) {
      super(64, 0.75f, true);
      this.max = max;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, Backend> eldest) {
      return size() > max;
    }
  }
}

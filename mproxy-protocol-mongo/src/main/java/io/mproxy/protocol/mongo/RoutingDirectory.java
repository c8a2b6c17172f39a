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
 * <p>Each cursor also remembers the client connection that last used it (opened it or ran a
 * {@code getMore} on it): when that connection goes away, the cursor is an orphan and the proxy
 * kills it on its backend (see {@link CursorReaper}). A cursor continued through another
 * connection of the same driver moves to that connection, so closing the first one leaves it be.
 *
 * <p>Both maps are bounded LRUs: the oldest entry goes when one is full (its cursor or
 * transaction is most likely abandoned; the server reports CursorNotFound or NoSuchTransaction
 * if it was not). Thread-safe.
 */
final class RoutingDirectory {

  static final int MAX_CURSORS = 100_000;
  static final int MAX_TRANSACTIONS = 100_000;

  /** Where a cursor lives and which client connection last used it. */
  private record CursorOwner(Backend backend, int connectionId) {
  }

  private final Lru<Long, CursorOwner> cursors;
  private final Lru<String, Backend> transactions;

  RoutingDirectory() {
    this(MAX_CURSORS, MAX_TRANSACTIONS);
  }

  RoutingDirectory(int maxCursors, int maxTransactions) {
    this.cursors = new Lru<>(maxCursors);
    this.transactions = new Lru<>(maxTransactions);
  }

  void cursorOpened(long cursorId, Backend owner) {
    cursorOpened(cursorId, owner, 0);
  }

  /** Records a cursor {@code connectionId} opened on {@code owner} (0: no connection owns it). */
  void cursorOpened(long cursorId, Backend owner, int connectionId) {
    if (cursorId != 0) {
      synchronized (cursors) {
        cursors.put(cursorId, new CursorOwner(owner, connectionId));
      }
    }
  }

  /**
   * {@code connectionId} continued the cursor ({@code getMore} on {@code backend}): it now owns it.
   * Returns whether the cursor is known on that backend.
   */
  boolean cursorUsedBy(long cursorId, Backend backend, int connectionId) {
    synchronized (cursors) {
      CursorOwner o = cursors.get(cursorId);
      if (o == null || o.backend() != backend) {
        return false;
      }
      if (o.connectionId() != connectionId) {
        cursors.put(cursorId, new CursorOwner(backend, connectionId));
      }
      return true;
    }
  }

  /**
   * Forgets the cursor and returns its backend if {@code connectionId} still owns it (it was not
   * closed, continued elsewhere or evicted since); null otherwise.
   */
  Backend releaseOrphan(long cursorId, int connectionId) {
    synchronized (cursors) {
      CursorOwner o = cursors.get(cursorId);
      if (o == null || o.connectionId() != connectionId) {
        return null;
      }
      cursors.remove(cursorId);
      return o.backend();
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
      CursorOwner o = cursors.get(cursorId);
      return o == null ? null : o.backend();
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
  private static final class Lru<K, V> extends LinkedHashMap<K, V> {
    private static final long serialVersionUID = 1L;
    private final int max;

    Lru(int max) {
      super(64, 0.75f, true);
      this.max = max;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > max;
    }
  }
}

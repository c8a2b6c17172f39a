package io.mproxy.protocol.mysql;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The proxy's own MySQL connection ids (what clients see in their greeting and in KILL) mapped to
 * live sessions, and the per-user connection counts behind {@code max_connections_per_user}.
 * Thread-safe; shared by every MySQL listener of the process.
 */
final class SessionRegistry {

  private static final long MAX_ID = 0xFFFF_FFFFL;

  private final AtomicLong next = new AtomicLong();
  private final ConcurrentHashMap<Long, MysqlSession> sessions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();

  /** A fresh 32-bit connection id for {@code session}, never 0 and never one in use. */
  long register(MysqlSession session) {
    while (true) {
      long id = next.incrementAndGet() & MAX_ID;
      if (id != 0 && sessions.putIfAbsent(id, session) == null) {
        return id;
      }
    }
  }

  void unregister(long id, MysqlSession session) {
    sessions.remove(id, session);
  }

  MysqlSession find(long id) {
    return sessions.get(id);
  }

  /** Counts one more connection of {@code user} on {@code listener}; false (not counted) above {@code max}. */
  boolean tryAddUser(String listener, String user, int max) {
    AtomicInteger n = perUser.computeIfAbsent(listener + '\u0000' + user, k -> new AtomicInteger());
    while (true) {
      int v = n.get();
      if (max > 0 && v >= max) {
        return false;
      }
      if (n.compareAndSet(v, v + 1)) {
        return true;
      }
    }
  }

  void removeUser(String listener, String user) {
    AtomicInteger n = perUser.get(listener + '\u0000' + user);
    if (n != null) {
      n.decrementAndGet();
    }
  }
}

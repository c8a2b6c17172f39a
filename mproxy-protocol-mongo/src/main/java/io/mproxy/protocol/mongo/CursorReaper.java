package io.mproxy.protocol.mongo;

import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PooledConnection;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills the cursors a vanished client left open. A driver that disconnects (crashed, closed its
 * client without closing a cursor) leaves server cursors holding memory and snapshots until the
 * server's idle timeout (10 minutes on mongod); a mongos kills them when their client goes, and so
 * does the proxy: one {@code killCursors} per namespace to the owning backend, on a pooled
 * connection leased like any other operation.
 *
 * <p>This is best-effort housekeeping and must never compete with client traffic unboundedly: at
 * most {@link #MAX_IN_FLIGHT} kills run at once per cluster, each names at most
 * {@link #MAX_IDS_PER_KILL} cursors, and what exceeds either bound is left to the server's
 * timeout (counted in {@link #skipped()}). Thread-safe; runs asynchronously on the given loop.
 */
final class CursorReaper {

  private static final Logger LOG = LoggerFactory.getLogger(CursorReaper.class);
  static final int MAX_IN_FLIGHT = 16;
  static final int MAX_IDS_PER_KILL = 1000;

  private final MongoBackendConnector connector;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong killed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();

  CursorReaper(MongoBackendConnector connector) {
    this.connector = connector;
  }

  /**
   * Sends {@code killCursors} for {@code ids} of namespace {@code ns} ({@code db.collection}) to
   * a connection of {@code pool}. Returns at once; the kill runs when a connection is free.
   */
  void kill(BackendPool pool, EventLoop loop, String ns, List<Long> ids) {
    int dot = ns.indexOf('.');
    if (ids.isEmpty() || dot <= 0 || dot == ns.length() - 1) {
      skipped.addAndGet(ids.size());
      return;
    }
    if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
      inFlight.decrementAndGet();
      skipped.addAndGet(ids.size());
      LOG.debug("{} orphaned cursors on {} left to the server's timeout: {} kills already running",
          ids.size(), pool.backend().id(), MAX_IN_FLIGHT);
      return;
    }
    List<Long> batch = ids.size() > MAX_IDS_PER_KILL ? ids.subList(0, MAX_IDS_PER_KILL) : ids;
    skipped.addAndGet(ids.size() - batch.size());
    BsonArray cursors = new BsonArray();
    batch.forEach(id -> cursors.add(new BsonInt64(id)));
    BsonDocument command = new BsonDocument("killCursors", new BsonString(ns.substring(dot + 1)))
        .append("cursors", cursors)
        .append("$db", new BsonString(ns.substring(0, dot)));
    try {
      pool.acquire(true, loop, new BackendPool.Lease() {
        @Override
        public void granted(PooledConnection connection) {
          send(connection, loop, command, batch.size());
        }

        @Override
        public void failed(Throwable cause) {
          done(batch.size(), false, cause.toString());
        }
      });
    } catch (RuntimeException e) {
      done(batch.size(), false, e.toString());
    }
  }

  private void send(PooledConnection connection, EventLoop loop, BsonDocument command, int count) {
    // the reply and a failure can each end the kill, but only one of them does: the lease goes
    // back and the in-flight slot is freed exactly once
    AtomicBoolean ended = new AtomicBoolean();
    Promise<Void> failed = new DefaultPromise<>(loop);
    failed.addListener(f -> {
      if (!f.isSuccess() && ended.compareAndSet(false, true)) {
        connection.pool().release(connection, false);
        done(count, false, String.valueOf(f.cause()));
      }
    });
    connector.command(connection, command, failed, reply -> {
      if (ended.compareAndSet(false, true)) {
        boolean ok = MongoBackendConnector.isOk(reply);
        connection.pool().release(connection, true);
        done(count, ok, ok ? "" : "killCursors refused");
      }
    });
  }

  private void done(int count, boolean ok, String detail) {
    inFlight.decrementAndGet();
    if (ok) {
      killed.addAndGet(count);
    } else {
      skipped.addAndGet(count);
      LOG.debug("killing {} orphaned cursors failed: {}", count, detail);
    }
  }

  /** Cursors killed so far. */
  long killed() {
    return killed.get();
  }

  /** Orphaned cursors not killed (over a bound, or the kill failed): left to the server's timeout. */
  long skipped() {
    return skipped.get();
  }
}

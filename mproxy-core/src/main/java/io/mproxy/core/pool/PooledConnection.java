package io.mproxy.core.pool;

import io.mproxy.core.balance.Backend;
import io.netty.channel.Channel;

/**
 * One open backend connection owned by a {@link BackendPool}. It is either shared (multiplexed:
 * many clients' requests in flight on it at once, counted in {@link #outstanding()}) or leased
 * exclusively to one client session. The protocol keeps its own per-connection state in
 * {@link #attachment()}.
 */
public final class PooledConnection {

  private final BackendPool pool;
  private final Channel channel;
  private final String variant;
  private volatile Object attachment;
  private volatile boolean exclusive;
  private volatile boolean ready;
  private final java.util.concurrent.atomic.AtomicInteger outstanding = new java.util.concurrent.atomic.AtomicInteger();
  private volatile long lastUsedNanos;
  /** The pool's idle stack this connection is in, and its neighbours there (under the pool's monitor). */
  IdleStack idleStack;
  /** The idle stack of this connection's event loop, once it has been in it (the loop never changes). */
  IdleStack homeStack;
  PooledConnection idleAbove;
  PooledConnection idleBelow;

  PooledConnection(BackendPool pool, Channel channel, String variant, long nowNanos) {
    this.pool = pool;
    this.channel = channel;
    this.variant = variant;
    this.lastUsedNanos = nowNanos;
  }

  public Channel channel() {
    return channel;
  }

  public Backend backend() {
    return pool.backend();
  }

  public BackendPool pool() {
    return pool;
  }

  /** The pool variant this connection belongs to (e.g. Redis RESP2 vs RESP3 connections). */
  public String variant() {
    return variant;
  }

  @SuppressWarnings("unchecked")
  public <T> T attachment() {
    return (T) attachment;
  }

  public void attach(Object state) {
    this.attachment = state;
  }

  public boolean exclusive() {
    return exclusive;
  }

  void exclusive(boolean e) {
    this.exclusive = e;
  }

  public boolean ready() {
    return ready;
  }

  void ready(boolean r) {
    this.ready = r;
  }

  /**
   * Shared requests reserved on this connection and not yet answered. The pool counts one up
   * when it hands the connection out for a shared request; the protocol calls {@link #done()}
   * when that request's reply has arrived (or the request was abandoned).
   */
  public int outstanding() {
    return outstanding.get();
  }

  void reserve() {
    outstanding.incrementAndGet();
  }

  /**
   * Reserves one more shared request on a connection the caller already has requests in flight
   * on (a client keeps its pipelined commands on one connection so they run in order). Fails
   * when nothing is outstanding any more: the connection may since have been leased
   * exclusively, so the caller must go through the pool instead.
   */
  public boolean reserveAnother() {
    return reserveAnother(1);
  }

  /**
   * {@link #reserveAnother()} for {@code count} requests at once (a client's pipelined commands
   * of one read): one atomic update for all of them, all or none. {@link #outstanding()} still
   * counts requests, which the pool's least-loaded pick and packing depth read.
   */
  public boolean reserveAnother(int count) {
    if (count <= 0) {
      throw new IllegalArgumentException("count " + count);
    }
    while (true) {
      int n = outstanding.get();
      if (n <= 0 || exclusive) {
        return false;
      }
      if (outstanding.compareAndSet(n, n + count)) {
        return true;
      }
    }
  }

  /**
   * One shared request on this connection has finished. When that leaves the connection idle
   * and someone waits for an exclusive lease, the pool hands it over.
   */
  public void done() {
    done(1);
  }

  /**
   * {@code count} shared requests on this connection have finished (the replies of one read from
   * the backend): one atomic update and one reading of the time for all of them.
   */
  public void done(int count) {
    if (count <= 0) {
      throw new IllegalArgumentException("count " + count);
    }
    int left = outstanding.addAndGet(-count);
    lastUsedNanos = pool.nowNanos();
    if (left == 0) {
      pool.connectionIdle();
    }
  }

  public long lastUsedNanos() {
    return lastUsedNanos;
  }

  void touch(long nowNanos) {
    this.lastUsedNanos = nowNanos;
  }

  public boolean usable() {
    return ready && channel.isActive();
  }

  @Override
  public String toString() {
    return "PooledConnection[" + pool.backend().id() + " " + channel.id().asShortText()
        + (exclusive ? " exclusive" : " shared") + " outstanding=" + outstanding.get() + "]";
  }
}

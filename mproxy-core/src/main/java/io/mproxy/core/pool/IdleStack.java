package io.mproxy.core.pool;

import io.netty.channel.EventLoop;

/**
 * The idle connections of one pool on one event loop, the most recently freed on top: an
 * intrusive list through {@link PooledConnection}'s idle links, so a push, a pop and the removal
 * of any member are constant-time and allocate nothing. Guarded by the pool's monitor.
 *
 * <p>Most recently freed first keeps the same few connections (and their server processes) busy
 * while the rest stay idle long enough for {@code idle_timeout} to close them, as the pool's
 * earlier first-in-list pick did.
 */
final class IdleStack {

  private final EventLoop loop;
  private PooledConnection top;
  private int size;

  IdleStack(EventLoop loop) {
    this.loop = loop;
  }

  EventLoop loop() {
    return loop;
  }

  int size() {
    return size;
  }

  /** Puts {@code c}, which is in no stack, on top. */
  void push(PooledConnection c) {
    c.idleStack = this;
    c.idleAbove = null;
    c.idleBelow = top;
    if (top != null) {
      top.idleAbove = c;
    }
    top = c;
    size++;
  }

  /**
   * Takes the topmost connection that can be leased now. Members that cannot (their channel has
   * closed and the pool has not heard yet) are dropped on the way: the pool forgets them when
   * their close arrives.
   */
  PooledConnection pop() {
    while (top != null) {
      PooledConnection c = top;
      remove(c);
      if (c.usable() && !c.exclusive() && c.outstanding() == 0) {
        return c;
      }
    }
    return null;
  }

  /** Takes {@code c} out if it is in this stack. */
  void remove(PooledConnection c) {
    if (c.idleStack != this) {
      return;
    }
    PooledConnection above = c.idleAbove;
    PooledConnection below = c.idleBelow;
    if (above == null) {
      top = below;
    } else {
      above.idleBelow = below;
    }
    if (below != null) {
      below.idleAbove = above;
    }
    c.idleStack = null;
    c.idleAbove = null;
    c.idleBelow = null;
    size--;
  }

  /** Empties the stack (the pool is closing). */
  void clear() {
    while (top != null) {
      remove(top);
    }
  }
}

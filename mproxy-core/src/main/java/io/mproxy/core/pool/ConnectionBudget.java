package io.mproxy.core.pool;

/**
 * How many connections one backend may have open across all of its pools. A protocol can keep
 * several pools per backend (one per connection variant: MySQL capability sets, PostgreSQL
 * databases); {@code pool.max_size} is what the operator allows the backend as a whole, so each
 * new connection of any of them takes a slot here, given back when its socket closes.
 *
 * <p>When a pool with waiting requests finds the budget spent, it marks it starved: from then on
 * only opens for waiters may take a freed slot (not a {@code min_idle} top-up of another pool),
 * and the cluster's upkeep closes an idle connection of another pool to free one. The mark is
 * cleared when a waiter's open takes a slot, or when no pool of the backend has waiters left.
 */
public final class ConnectionBudget {

  private int limit;
  private int used;
  private boolean starved;

  public ConnectionBudget(int limit) {
    this.limit = limit;
  }

  /** No cap beyond each pool's own {@code max_size} (a pool used on its own). */
  public static ConnectionBudget unlimited() {
    return new ConnectionBudget(Integer.MAX_VALUE);
  }

  /** A reloaded {@code max_size}; connections above it close as their pools let them go. */
  public synchronized void limit(int next) {
    this.limit = next;
  }

  /** Takes a slot for a connection about to be opened; {@code forWaiter}: a request waits for it. */
  synchronized boolean tryAcquire(boolean forWaiter) {
    if (used >= limit) {
      if (forWaiter) {
        starved = true;
      }
      return false;
    }
    if (starved && !forWaiter) {
      return false;
    }
    used++;
    if (forWaiter) {
      starved = false;
    }
    return true;
  }

  /** The connection that held a slot is closed (or was never opened). */
  synchronized void release() {
    used--;
  }

  /** True when a waiting request could not get a slot since the last clear. */
  public synchronized boolean starved() {
    return starved;
  }

  /** Every slot is taken. */
  public synchronized boolean full() {
    return used >= limit;
  }

  /** Nobody waits any more: top-ups may take free slots again. */
  public synchronized void clearStarved() {
    starved = false;
  }

  public synchronized int used() {
    return used;
  }
}

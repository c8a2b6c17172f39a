package io.mproxy.sim;

import io.mproxy.core.time.Clock;
import io.mproxy.core.time.Scheduler;
import java.util.PriorityQueue;

/**
 * The discrete-event loop: a virtual nanosecond clock and a priority queue of events ordered by
 * due time, then by the order they were scheduled (so ties replay identically). It is the
 * {@link Clock} and {@link Scheduler} handed to the production core classes; nothing runs on
 * another thread and nothing waits for wall-clock time.
 */
public final class VirtualTime implements Clock, Scheduler {

  private static final long EPOCH_MILLIS = 1_700_000_000_000L;

  private final PriorityQueue<Event> queue = new PriorityQueue<>(1024);
  private long now;
  private long sequence;
  private long executed;

  @Override
  public long nanoTime() {
    return now;
  }

  /** Fixed epoch plus virtual time: never the machine's clock. */
  @Override
  public long wallMillis() {
    return EPOCH_MILLIS + now / 1_000_000L;
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    Event e = new Event(now + Math.max(0, delayNanos), 0, task, sequence++);
    queue.add(e);
    return e;
  }

  /** Runs {@code task} at the absolute virtual time {@code atNanos} (now, if that has passed). */
  public Cancellable at(long atNanos, Runnable task) {
    return schedule(task, atNanos - now);
  }

  @Override
  public Cancellable scheduleAtFixedRate(Runnable task, long periodNanos) {
    if (periodNanos <= 0) {
      throw new IllegalArgumentException("period must be > 0: " + periodNanos);
    }
    Event e = new Event(now + periodNanos, periodNanos, task, sequence++);
    queue.add(e);
    return e;
  }

  /**
   * Runs events in time order until the next one is due after {@code untilNanos} or none is
   * left; the clock ends at {@code untilNanos}. Returns the number of events run.
   */
  public long runUntil(long untilNanos) {
    long before = executed;
    while (!queue.isEmpty() && queue.peek().due <= untilNanos) {
      Event e = queue.poll();
      if (e.cancelled) {
        continue;
      }
      now = e.due;
      executed++;
      e.task.run();
      if (e.period > 0 && !e.cancelled) {
        e.due += e.period;
        e.seq = sequence++;
        queue.add(e);
      }
    }
    if (untilNanos > now) {
      now = untilNanos;
    }
    return executed - before;
  }

  /** Events run so far. */
  public long executed() {
    return executed;
  }

  /** Events waiting (cancelled ones included until their time comes). */
  public int pending() {
    return queue.size();
  }

  private static final class Event implements Comparable<Event>, Cancellable {
    long due;
    final long period;
    final Runnable task;
    long seq;
    boolean cancelled;

    Event(long due, long period, Runnable task, long seq) {
      this.due = due;
      this.period = period;
      this.task = task;
      this.seq = seq;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Event o) {
      int c = Long.compare(due, o.due);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}

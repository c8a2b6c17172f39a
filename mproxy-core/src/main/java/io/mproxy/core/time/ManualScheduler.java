package io.mproxy.core.time;

import java.util.PriorityQueue;

/**
 * A scheduler driven by a {@link ManualClock}: {@link #advanceMillis} moves the clock and runs,
 * in time order, every task that has come due. Single-threaded, for tests and the simulator.
 */
public final class ManualScheduler implements Scheduler {

  private final ManualClock clock;
  private final PriorityQueue<Task> queue = new PriorityQueue<>();
  private long sequence;

  public ManualScheduler(ManualClock clock) {
    this.clock = clock;
  }

  public ManualClock clock() {
    return clock;
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    Task t = new Task(clock.nanoTime() + Math.max(0, delayNanos), 0, task, sequence++);
    queue.add(t);
    return () -> t.cancelled = true;
  }

  @Override
  public Cancellable scheduleAtFixedRate(Runnable task, long periodNanos) {
    if (periodNanos <= 0) {
      throw new IllegalArgumentException("period must be > 0: " + periodNanos);
    }
    Task t = new Task(clock.nanoTime() + periodNanos, periodNanos, task, sequence++);
    queue.add(t);
    return () -> t.cancelled = true;
  }

  /** Moves time forward, running due tasks at their own due times. */
  public void advanceNanos(long delta) {
    long target = clock.nanoTime() + delta;
    while (!queue.isEmpty() && queue.peek().due <= target) {
      Task t = queue.poll();
      if (t.cancelled) {
        continue;
      }
      clock.advanceNanos(t.due - clock.nanoTime());
      t.runnable.run();
      if (t.period > 0 && !t.cancelled) {
        t.due += t.period;
        t.seq = sequence++;
        queue.add(t);
      }
    }
    clock.advanceNanos(target - clock.nanoTime());
  }

  public void advanceMillis(long millis) {
    advanceNanos(millis * 1_000_000L);
  }

  /** Tasks waiting to run (cancelled ones included until they come due). */
  public int pending() {
    return queue.size();
  }

  private static final class Task implements Comparable<Task> {
    long due;
    final long period;
    final Runnable runnable;
    long seq;
    volatile boolean cancelled;

    Task(long due, long period, Runnable runnable, long seq) {
      this.due = due;
      this.period = period;
      this.runnable = runnable;
      this.seq = seq;
    }

    @Override
    public int compareTo(Task o) {
      int c = Long.compare(due, o.due);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}

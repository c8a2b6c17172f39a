package io.mproxy.core.wire;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs "flush at the end of this tick" tasks of every channel of one event loop as one task.
 *
 * <p>A proxy writes to a channel while reading another one (a backend reply goes to its client)
 * and flushes once per event-loop tick, so that everything one read produced leaves in one system
 * call. Scheduling that flush with {@code executor.execute} per channel costs an offer to the
 * loop's multi-producer task queue (two atomic operations) and a task run per channel per tick:
 * with fifty busy clients on a loop, fifty of each. Here the first channel that asks during a tick
 * schedules one task; the others join a plain list that this task runs through. The tasks still
 * run after the I/O the loop is processing, exactly when they used to.
 *
 * <p>Thread-confined: one instance per event-loop thread. Called from outside the loop, {@link
 * #later} falls back to {@code execute}.
 */
public final class TickFlusher {

  private static final Logger LOG = LoggerFactory.getLogger(TickFlusher.class);
  private static final int MAX_LOGGED_FAILURES = 10;

  private static final FastThreadLocal<TickFlusher> PER_THREAD = new FastThreadLocal<>() {
    @Override
    protected TickFlusher initialValue() {
      return new TickFlusher();
    }
  };

  private ArrayList<Runnable> pending = new ArrayList<>();
  private ArrayList<Runnable> running = new ArrayList<>();
  private final Runnable runAll = this::runAll;
  private boolean scheduled;
  private int failuresLogged;

  private TickFlusher() {
  }

  /**
   * Runs {@code task} on {@code loop} after the I/O it is processing now. Callers keep their own
   * "already scheduled" flag: a task given twice in one tick runs twice.
   */
  public static void later(EventExecutor loop, Runnable task) {
    if (!loop.inEventLoop()) {
      loop.execute(task);
      return;
    }
    PER_THREAD.get().add(loop, task);
  }

  private void add(EventExecutor loop, Runnable task) {
    pending.add(task);
    if (!scheduled) {
      scheduled = true;
      loop.execute(runAll);
    }
  }

  private void runAll() {
    scheduled = false;
    ArrayList<Runnable> tasks = pending;
    pending = running;
    running = tasks;
    int n = tasks.size();
    for (int i = 0; i < n; i++) {
      Runnable task = tasks.get(i);
      tasks.set(i, null);
      try {
        task.run();
      } catch (Throwable e) {
        if (failuresLogged < MAX_LOGGED_FAILURES) {
          failuresLogged++;
          LOG.warn("a flush task failed (the other channels' flushes still ran)", e);
        }
      }
    }
    tasks.clear();
  }
}

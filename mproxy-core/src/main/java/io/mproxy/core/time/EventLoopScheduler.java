package io.mproxy.core.time;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;

/** A {@link Scheduler} over a Netty event loop, so waits resume on the session's own thread. */
public final class EventLoopScheduler implements Scheduler {

  private final EventExecutor executor;

  public EventLoopScheduler(EventExecutor executor) {
    this.executor = executor;
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    var f = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public Cancellable scheduleAtFixedRate(Runnable task, long periodNanos) {
    var f = executor.scheduleAtFixedRate(task, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }
}

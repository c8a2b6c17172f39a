package io.mproxy.server;

import io.mproxy.core.time.Clock;
import io.mproxy.core.time.RandomSource;
import io.mproxy.core.time.Scheduler;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production implementations of core's seams: the system's monotonic clock, thread-local
 * randomness, and one housekeeping thread for periodic work (RU ticks, pool upkeep, health
 * probes) that never runs on an event loop.
 */
final class SystemTime implements Clock, RandomSource, Scheduler, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SystemTime.class);

  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "mproxy-housekeeping");
    t.setDaemon(true);
    return t;
  });

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public long wallMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public int nextInt(int bound) {
    return ThreadLocalRandom.current().nextInt(bound);
  }

  @Override
  public double nextDouble() {
    return ThreadLocalRandom.current().nextDouble();
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    var f = executor.schedule(guarded(task), delayNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public Cancellable scheduleAtFixedRate(Runnable task, long periodNanos) {
    var f = executor.scheduleAtFixedRate(guarded(task), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  /** A periodic task that throws would be silently cancelled: log and carry on instead. */
  private static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.error("housekeeping task failed", e);
      }
    };
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

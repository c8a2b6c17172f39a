package io.mproxy.core.time;

/**
 * Runs tasks later. Core schedules through this seam only, so a simulation can run the same
 * code in virtual time.
 */
public interface Scheduler {

  /** Runs {@code task} once after {@code delayNanos}; the handle cancels it if not yet run. */
  Cancellable schedule(Runnable task, long delayNanos);

  /** Runs {@code task} every {@code periodNanos}, first after one period. */
  Cancellable scheduleAtFixedRate(Runnable task, long periodNanos);

  /** A scheduled task that may be cancelled. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}

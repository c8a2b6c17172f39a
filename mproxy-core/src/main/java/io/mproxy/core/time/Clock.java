package io.mproxy.core.time;

/**
 * The only source of time in core. Production uses the system clock; tests and the simulator
 * use a clock they advance by hand, so that every decision core makes is reproducible.
 */
public interface Clock {

  /** Monotonic nanoseconds, only meaningful as a difference between two readings. */
  long nanoTime();

  /** Wall-clock milliseconds since the epoch, for display only (never for intervals). */
  long wallMillis();
}

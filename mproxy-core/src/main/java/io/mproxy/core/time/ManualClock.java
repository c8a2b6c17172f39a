package io.mproxy.core.time;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to: for tests and the simulator. */
public final class ManualClock implements Clock {

  private final AtomicLong nanos;
  private final long epochMillisAtZero;

  public ManualClock() {
    this(0L, 1_700_000_000_000L);
  }

  public ManualClock(long startNanos, long epochMillisAtZero) {
    this.nanos = new AtomicLong(startNanos);
    this.epochMillisAtZero = epochMillisAtZero;
  }

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  @Override
  public long wallMillis() {
    return epochMillisAtZero + nanos.get() / 1_000_000L;
  }

  public void advanceNanos(long delta) {
    if (delta < 0) {
      throw new IllegalArgumentException("time never goes backwards: " + delta);
    }
    nanos.addAndGet(delta);
  }

  public void advanceMillis(long millis) {
    advanceNanos(millis * 1_000_000L);
  }
}

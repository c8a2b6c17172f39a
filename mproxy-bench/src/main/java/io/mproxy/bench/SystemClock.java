package io.mproxy.bench;

import io.mproxy.core.time.Clock;

/** The real clock, as production uses it: {@link System#nanoTime()} for every interval. */
final class SystemClock implements Clock {

  static final SystemClock INSTANCE = new SystemClock();

  private SystemClock() {
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public long wallMillis() {
    return System.currentTimeMillis();
  }
}

package io.mproxy.core.time;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * One clock reading for everything a thread does while it decodes one read: every command of a
 * pipelined batch (arrival, admission, dispatch) and every reply in one read from a backend
 * (completion) take the same reading instead of one each. On a VM a clock reading costs tens of
 * nanoseconds, and a request used to take seven or eight of them: a tenth of the event loops'
 * time with 16 commands per read.
 *
 * <p>A decoder brackets the synchronous delivery of what it decoded with {@link #begin()} and
 * {@link #end()} (in a {@code finally}); code that needs the time calls {@link #nanoTime(Clock)}.
 * Inside a bracket the first call reads the clock and later calls with the same clock get that
 * reading; outside any bracket (timers, tasks, other threads) every call reads the clock. So
 * the time is never older than the read being processed: things that happen in the same read
 * happen, to within the time it takes to process the read, at the same time. Brackets nest (a
 * read handled inside another on the same thread); the reading is taken afresh only when the
 * outermost one begins.
 */
public final class ReadBatch {

  private static final FastThreadLocal<ReadBatch> CURRENT = new FastThreadLocal<>() {
    @Override
    protected ReadBatch initialValue() {
      return new ReadBatch();
    }
  };

  private int depth;
  private Clock clock;
  private long nanos;

  private ReadBatch() {
  }

  /** Starts a bracket on the calling thread. */
  public static void begin() {
    ReadBatch b = CURRENT.get();
    if (b.depth++ == 0) {
      b.clock = null;
    }
  }

  /** Ends the bracket {@link #begin()} started on the calling thread. */
  public static void end() {
    ReadBatch b = CURRENT.get();
    if (b.depth > 0 && --b.depth == 0) {
      b.clock = null;
    }
  }

  /**
   * {@code clock.nanoTime()}, read once per bracket: inside one, the reading the first call
   * took with this clock; outside, a fresh reading.
   */
  public static long nanoTime(Clock clock) {
    ReadBatch b = CURRENT.get();
    if (b.depth == 0) {
      return clock.nanoTime();
    }
    if (b.clock != clock) {
      b.nanos = clock.nanoTime();
      b.clock = clock;
    }
    return b.nanos;
  }
}

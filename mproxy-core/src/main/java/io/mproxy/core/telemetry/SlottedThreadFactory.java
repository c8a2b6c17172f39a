package io.mproxy.core.telemetry;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;

/**
 * Netty's thread factory, making threads that carry their {@link ThreadSlots} slot in a field.
 * The daemon's event loops record into per-thread accumulators about a dozen times per request;
 * for them {@link ThreadSlots#current} is a field read instead of a thread-local look-up. Threads
 * are named and prioritised as Netty's event-loop groups make them for {@code poolType}.
 */
public final class SlottedThreadFactory extends DefaultThreadFactory {

  /** Named and prioritised as Netty's event-loop groups make their own threads (priority 10). */
  public SlottedThreadFactory(Class<?> poolType) {
    super(poolType, Thread.MAX_PRIORITY);
  }

  @Override
  protected Thread newThread(Runnable r, String name) {
    return new Slotted(threadGroup, r, name);
  }

  /** A thread whose slot, once assigned, is read from a field that only the thread itself writes. */
  static final class Slotted extends FastThreadLocalThread {
    /** {@code -1} until the thread's first {@link ThreadSlots#current}; written by this thread only. */
    int slot = -1;

    Slotted(ThreadGroup group, Runnable r, String name) {
      super(group, r, name);
    }
  }
}

package io.mproxy.core.telemetry;

import io.netty.util.concurrent.FastThreadLocal;
import java.lang.ref.WeakReference;
import java.util.Arrays;

/**
 * A small dense number per thread that records, so that per-thread (in the daemon: per event
 * loop) accumulators can sit in plain arrays indexed by it instead of in shared counters that
 * every event loop writes for every request.
 *
 * <p>A thread keeps its slot for its whole life. A slot is handed to a new thread only once its
 * previous owner has terminated, and the new owner simply continues the accumulators the dead
 * thread left in it: the old owner's writes happen before its termination, which the assigner
 * observed under this class's lock before the new owner's first write. So every per-slot
 * accumulator keeps exactly one writer at a time, and a publisher that reads every slot never
 * loses what a thread recorded before it stopped. The number of slots is the largest number of
 * recording threads alive at once (the event loops, plus a few in tests).
 */
public final class ThreadSlots {

  private static final Object LOCK = new Object();
  /** Owner of each slot; a cleared reference or a dead thread frees the slot. Guarded by LOCK. */
  @SuppressWarnings("unchecked")
  private static WeakReference<Thread>[] owners = new WeakReference[0];

  private static final FastThreadLocal<int[]> CURRENT = new FastThreadLocal<>() {
    @Override
    protected int[] initialValue() {
      return new int[] {assign(Thread.currentThread())};
    }
  };

  private ThreadSlots() {
  }

  /**
   * The calling thread's slot (assigned on first use): a field read on a thread of
   * {@link SlottedThreadFactory} (the daemon's event loops), a thread-local look-up on any other.
   */
  public static int current() {
    if (Thread.currentThread() instanceof SlottedThreadFactory.Slotted t) {
      int slot = t.slot;
      return slot >= 0 ? slot : (t.slot = assign(t));
    }
    return CURRENT.get()[0];
  }

  /** How many slots have ever been handed out: every slot is below this. */
  public static int count() {
    synchronized (LOCK) {
      return owners.length;
    }
  }

  private static int assign(Thread thread) {
    synchronized (LOCK) {
      for (int i = 0; i < owners.length; i++) {
        Thread owner = owners[i].get();
        if (owner == null || !owner.isAlive()) {
          owners[i] = new WeakReference<>(thread);
          return i;
        }
      }
      int i = owners.length;
      owners = Arrays.copyOf(owners, i + 1);
      owners[i] = new WeakReference<>(thread);
      return i;
    }
  }
}

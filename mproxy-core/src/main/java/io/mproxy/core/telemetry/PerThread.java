package io.mproxy.core.telemetry;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * One instance of {@code T} per recording thread ({@link ThreadSlots}), for accumulators that
 * each thread writes alone and that a publisher reads: the per-request path does one
 * thread-local read and one array load, and writes nothing another thread writes.
 *
 * <p>Instances are created on a thread's first {@link #get} and never replaced: a thread that
 * inherits a dead thread's slot continues its instance (see {@link ThreadSlots}), so
 * {@link #forEach} always sees everything that was recorded.
 */
public final class PerThread<T> {

  private final Supplier<T> factory;
  private volatile Object[] items = new Object[0];

  public PerThread(Supplier<T> factory) {
    this.factory = factory;
  }

  /** The calling thread's instance. */
  public T get() {
    return get(ThreadSlots.current());
  }

  /**
   * The instance of slot {@code i} (created when absent): for state that a request must find
   * again from another thread, e.g. the shard its start was recorded in.
   */
  @SuppressWarnings("unchecked")
  public T get(int i) {
    Object[] a = items;
    if (i < a.length) {
      Object o = a[i];
      if (o != null) {
        return (T) o;
      }
    }
    return create(i);
  }

  @SuppressWarnings("unchecked")
  private synchronized T create(int i) {
    Object[] a = items;
    if (i < a.length && a[i] != null) {
      return (T) a[i];
    }
    Object[] next = Arrays.copyOf(a, Math.max(a.length, i + 1));
    T t = factory.get();
    next[i] = t;
    items = next;
    return t;
  }

  /**
   * The sum of {@code f} over every instance created so far: for readers that need a total on a
   * request path (pass a non-capturing function, which allocates nothing).
   */
  @SuppressWarnings("unchecked")
  public long sum(ToLongFunction<? super T> f) {
    long sum = 0;
    for (Object o : items) {
      if (o != null) {
        sum += f.applyAsLong((T) o);
      }
    }
    return sum;
  }

  /** {@link #sum(ToLongFunction)} of doubles. */
  @SuppressWarnings("unchecked")
  public double sumDouble(ToDoubleFunction<? super T> f) {
    double sum = 0;
    for (Object o : items) {
      if (o != null) {
        sum += f.applyAsDouble((T) o);
      }
    }
    return sum;
  }

  /** Every instance created so far, on any thread (for publishing; not on the request path). */
  @SuppressWarnings("unchecked")
  public void forEach(Consumer<? super T> action) {
    for (Object o : items) {
      if (o != null) {
        action.accept((T) o);
      }
    }
  }
}

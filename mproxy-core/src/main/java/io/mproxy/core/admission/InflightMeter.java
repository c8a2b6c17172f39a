package io.mproxy.core.admission;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;

/**
 * Meters the latency of a group's requests while they are in flight, exactly and in O(1) per
 * request: each tick charges every in-flight request for the time it actually spent in flight
 * since the previous tick (or since it started, if it started after it), and on completion a
 * request learns how much the ticks already charged for it, to settle only the rest.
 *
 * <p>It keeps two aggregates: the summed latency weight of requests that were already in flight
 * at the last tick, and for requests started since, their summed weight and summed
 * {@code weight × (start − lastTick)}. A tick then charges
 * {@code old × Δt + new × Δt − Σ w·offset} and folds the new requests into the old.
 *
 * <p><b>Who touches the aggregates.</b> A meter made on an event loop ({@link #forCurrentThread})
 * belongs to that loop: its starts and its ends run there without any lock or atomic operation,
 * and the ticker does not fold it itself but hands the fold to the loop as a task, so a tick can
 * never race a start or an end and the latency charge stays exact. A request that ends on another
 * thread (it started on this loop) cannot touch the aggregates either: it settles as if no tick
 * had charged it, and queues its end for the owner, which removes it at its next fold and
 * refunds to the group what the ticks charged for it; the sum is the same. Once the owner thread
 * has terminated (its slot may go to a new thread), every access takes the meter's monitor,
 * which the owner never took: nothing runs on the owner any more. A meter made on any other
 * thread (tests, a blocking caller, the threads past the shared slot) takes its monitor for
 * every operation, as a start, an end and a tick may then come from any thread.
 */
final class InflightMeter {

  private static final double NANOS_PER_MS = 1e6;
  private static final VarHandle INFLIGHT;
  private static final VarHandle FOLD_PENDING;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      INFLIGHT = l.findVarHandle(InflightMeter.class, "inflight", int.class);
      FOLD_PENDING = l.findVarHandle(InflightMeter.class, "foldPending", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private double oldWeight;
  private double newWeight;
  private double newWeightedOffsetMs;
  private long lastTickNanos;
  private long tickSeq;
  /** Written by whoever holds the aggregates, read by anyone (a moment's view). */
  private int inflight;

  /** The loop that owns this meter, or null when every operation takes the monitor. */
  private final Thread ownerThread;
  private final EventExecutor owner;
  /** Where the owner charges its folds and refunds (null without an owner). */
  private final ResourceGroup group;
  /** Ends of this meter's requests on other threads, for the owner to remove at its next fold. */
  private final ConcurrentLinkedQueue<ForeignEnd> foreignEnds;
  private final Runnable foldTask;
  /** 1 while a fold task is queued on the owner: one at a time, whatever the ticker's pace. */
  @SuppressWarnings("unused") // through FOLD_PENDING
  private volatile int foldPending;

  /** No clock reading yet: the first start or tick sets it. */
  private static final long UNSET = Long.MIN_VALUE;

  InflightMeter(long nowNanos) {
    this(nowNanos, null, null, null);
  }

  /** A meter whose time starts at its first {@link #start} or {@link #tick} (it reads no clock itself). */
  InflightMeter() {
    this(UNSET);
  }

  private InflightMeter(long nowNanos, Thread ownerThread, EventExecutor owner, ResourceGroup group) {
    this.lastTickNanos = nowNanos;
    this.ownerThread = ownerThread;
    this.owner = owner;
    this.group = group;
    this.foreignEnds = owner == null ? null : new ConcurrentLinkedQueue<>();
    this.foldTask = owner == null ? null : this::foldOnOwner;
  }

  /**
   * A meter for the calling thread: owned by its event loop when it runs on one, charging its
   * folds and refunds to {@code group}; else one that takes its monitor for everything.
   */
  static InflightMeter forCurrentThread(ResourceGroup group) {
    EventExecutor loop = ThreadExecutorMap.currentExecutor();
    if (loop == null || !loop.inEventLoop()) {
      return new InflightMeter();
    }
    return new InflightMeter(UNSET, Thread.currentThread(), loop, group);
  }

  /** Whether the owner loop, without any lock, runs this meter's starts, ends and folds. */
  boolean ownedByLoop() {
    return owner != null;
  }

  /** A request with latency weight {@code w} started at {@code nowNanos}; returns its start tick. */
  long start(double w, long nowNanos) {
    if (Thread.currentThread() == ownerThread) {
      return doStart(w, nowNanos);
    }
    synchronized (this) {
      return doStart(w, nowNanos);
    }
  }

  /**
   * The request that {@link #start} returned {@code startSeq} for has ended; returns the RU the
   * ticks have charged for it so far. Ended on another thread than the owner loop, it returns 0
   * and the owner refunds what the ticks charged for it at its next fold.
   */
  double end(double w, long startNanos, long startSeq) {
    if (Thread.currentThread() == ownerThread) {
      return doEnd(w, startNanos, startSeq);
    }
    if (owner != null && ownerThread.isAlive()) {
      foreignEnds.add(new ForeignEnd(w, startNanos, startSeq));
      return 0;
    }
    synchronized (this) {
      return doEnd(w, startNanos, startSeq);
    }
  }

  /**
   * Charges the time since the last tick for everything in flight; returns the RU to charge. On
   * a meter owned by a live loop, the fold is handed to the loop (which charges the group itself)
   * and this returns 0.
   */
  double tick(long nowNanos) {
    if (owner != null && ownerThread.isAlive()) {
      if (FOLD_PENDING.compareAndSet(this, 0, 1)) {
        try {
          owner.execute(foldTask);
        } catch (RejectedExecutionException shuttingDown) {
          // the loop is shutting down: the time keeps accruing, and the first tick after the
          // thread has ended folds it under the monitor
          FOLD_PENDING.setVolatile(this, 0);
        }
      }
      return 0;
    }
    synchronized (this) {
      return fold(nowNanos);
    }
  }

  int inflight() {
    return (int) INFLIGHT.getOpaque(this);
  }

  /** The owner's fold: on the owner thread, so it races no start or end. */
  private void foldOnOwner() {
    FOLD_PENDING.setVolatile(this, 0);
    long now = group.clockNanos();
    double ru;
    if (Thread.currentThread() == ownerThread) {
      ru = fold(now);
    } else {
      // the executor runs its tasks on a new thread (the owner ended): the monitor path
      synchronized (this) {
        ru = fold(now);
      }
    }
    if (ru != 0) {
      group.charge(ru, now);
    }
  }

  /** A tick's fold by whoever holds the aggregates: the time charged, less the foreign ends' refunds. */
  private double fold(long nowNanos) {
    return doTick(nowNanos) - drainForeignEnds();
  }

  /** Removes the requests other threads ended; returns the RU the ticks charged for them. */
  private double drainForeignEnds() {
    if (foreignEnds == null) {
      return 0;
    }
    double refund = 0;
    for (ForeignEnd e; (e = foreignEnds.poll()) != null; ) {
      refund += doEnd(e.weight, e.startNanos, e.startSeq);
    }
    return refund;
  }

  private long doStart(double w, long nowNanos) {
    if (lastTickNanos == UNSET) {
      lastTickNanos = nowNanos;
    }
    INFLIGHT.setOpaque(this, inflight + 1);
    if (w > 0) {
      newWeight += w;
      newWeightedOffsetMs += w * Math.max(0, nowNanos - lastTickNanos) / NANOS_PER_MS;
    }
    return tickSeq;
  }

  private double doEnd(double w, long startNanos, long startSeq) {
    int left = inflight - 1;
    INFLIGHT.setOpaque(this, left);
    double charged = 0;
    if (w > 0) {
      if (startSeq == tickSeq) {
        newWeight -= w;
        newWeightedOffsetMs -= w * Math.max(0, startNanos - lastTickNanos) / NANOS_PER_MS;
      } else {
        oldWeight -= w;
        charged = w * Math.max(0, lastTickNanos - startNanos) / NANOS_PER_MS;
      }
    }
    if (left == 0) {
      oldWeight = 0;
      newWeight = 0;
      newWeightedOffsetMs = 0;
    }
    return charged;
  }

  private double doTick(long nowNanos) {
    if (lastTickNanos == UNSET) {
      lastTickNanos = nowNanos;
    }
    double elapsedMs = Math.max(0, nowNanos - lastTickNanos) / NANOS_PER_MS;
    double charge = (oldWeight + newWeight) * elapsedMs - newWeightedOffsetMs;
    oldWeight += newWeight;
    newWeight = 0;
    newWeightedOffsetMs = 0;
    lastTickNanos = nowNanos;
    tickSeq++;
    return Math.max(0, charge);
  }

  /** A request of this meter that ended on another thread than its owner. */
  private record ForeignEnd(double weight, long startNanos, long startSeq) {
  }
}

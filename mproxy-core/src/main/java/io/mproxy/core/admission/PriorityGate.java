package io.mproxy.core.admission;

import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.time.Scheduler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Bounds how many admitted requests are on their way to or at a backend, and orders the rest by
 * priority. Without it a burst the RU buckets allow (a new tenant's full burst) lands in the
 * backend pool's single FIFO, and a HIGH request arriving next waits behind all of it; with it the
 * burst waits here, HIGH goes first, and per-priority CoDel sheds what has waited too long.
 *
 * <p>Decisions are taken under the gate's lock; callbacks run afterwards through each waiter's
 * own scheduler (its event loop), never under the lock.
 */
final class PriorityGate {

  /** A request waiting for a slot. */
  record Waiter(Ticket ticket, Scheduler scheduler, AdmissionCallback callback, long sinceNanos) {
  }

  /** What the caller does with waiters after a decision: admit these, shed those. */
  record Moves(List<Waiter> admit, List<Waiter> shed, long retryAfterMs) {
    static final Moves NONE = new Moves(List.of(), List.of(), 0);
  }

  enum Entry { ADMITTED, QUEUED, FULL }

  private final CodelConfig config;
  private final long targetNanos;
  private final long maxWaitNanos;
  private final Codel[] codels = new Codel[Priority.values().length];
  private final List<ArrayDeque<Waiter>> queues = new ArrayList<>();
  private int inflight;
  private int queued;

  PriorityGate(CodelConfig config, long nowNanos) {
    this.config = config;
    this.targetNanos = config.targetMs() * 1_000_000L;
    this.maxWaitNanos = config.maxWaitMs() * 1_000_000L;
    for (Priority p : Priority.values()) {
      codels[p.ordinal()] = new Codel(config, nowNanos);
      queues.add(new ArrayDeque<>());
    }
  }

  CodelConfig config() {
    return config;
  }

  /** Takes a slot at once, or queues the waiter, or says the queue is full. */
  synchronized Entry enter(Waiter w) {
    if (inflight < config.maxInflight() && queued == 0) {
      inflight++;
      w.ticket().gate(this);
      return Entry.ADMITTED;
    }
    if (queued >= config.maxQueued()) {
      return Entry.FULL;
    }
    queues.get(w.ticket().request().priority().ordinal()).addLast(w);
    queued++;
    return Entry.QUEUED;
  }

  /** A slot came back (its ticket completed): hands free slots to the best waiters. */
  synchronized Moves release(long nowNanos) {
    inflight--;
    return drain(nowNanos, false);
  }

  /** Periodic: CoDel's clock, and waiters past {@code max_wait_ms} are shed. */
  synchronized Moves tick(long nowNanos) {
    for (Codel c : codels) {
      c.tick(nowNanos);
    }
    return drain(nowNanos, true);
  }

  private Moves drain(long now, boolean expire) {
    List<Waiter> admit = new ArrayList<>();
    List<Waiter> shed = new ArrayList<>();
    if (expire) {
      for (ArrayDeque<Waiter> q : queues) {
        while (!q.isEmpty() && now - q.peekFirst().sinceNanos() > maxWaitNanos) {
          shed.add(q.pollFirst());
          queued--;
        }
      }
    }
    for (Priority p : Priority.values()) {
      ArrayDeque<Waiter> q = queues.get(p.ordinal());
      Codel codel = codels[p.ordinal()];
      while (inflight < config.maxInflight() && !q.isEmpty()) {
        Waiter w = q.pollFirst();
        queued--;
        long sojourn = now - w.sinceNanos();
        codel.sample(sojourn, now);
        if (codel.level() > 0 && sojourn > targetNanos) {
          shed.add(w);
          continue;
        }
        inflight++;
        w.ticket().gate(this);
        admit.add(w);
      }
    }
    return admit.isEmpty() && shed.isEmpty() ? Moves.NONE : new Moves(admit, shed, config.intervalMs());
  }

  synchronized int inflight() {
    return inflight;
  }

  synchronized int queued() {
    return queued;
  }

  /** Whether CoDel is shedding the heads of {@code p}'s queue. */
  synchronized boolean shedding(Priority p) {
    return codels[p.ordinal()].level() > 0;
  }
}

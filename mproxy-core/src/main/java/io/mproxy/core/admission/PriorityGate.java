package io.mproxy.core.admission;

import io.mproxy.core.balance.ShuffleShard;
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
 * <p>With {@code reserve_high} the last slots are HIGH's: NORMAL and LOW wait while fewer than that
 * many are free, so a HIGH request never waits for a running LOW request to finish (the gate
 * cannot preempt one). Invariant after every decision: a queued HIGH waiter means every slot is
 * taken, a queued NORMAL or LOW waiter means every non-reserved slot is.
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

  /** Guarded by this; only {@code reserve_high} changes after construction ({@link #reconfigure}). */
  private CodelConfig config;
  private final long targetNanos;
  private final long maxWaitNanos;
  private final Codel[] codels = new Codel[Priority.values().length];
  /** Per priority, its queue shards (one unless {@code queue_shards} says more). */
  private final List<ArrayDeque<Waiter>[]> queues = new ArrayList<>();
  /** Per priority, the shard whose turn is next. */
  private final int[] turn = new int[Priority.values().length];
  private final int[] queuedByPriority = new int[Priority.values().length];
  private int inflight;
  private int queued;

  PriorityGate(CodelConfig config, long nowNanos) {
    this.config = config;
    this.targetNanos = config.targetMs() * 1_000_000L;
    this.maxWaitNanos = config.maxWaitMs() * 1_000_000L;
    for (Priority p : Priority.values()) {
      codels[p.ordinal()] = new Codel(config, nowNanos);
      @SuppressWarnings("unchecked")
      ArrayDeque<Waiter>[] shards = new ArrayDeque[config.queueShards()];
      for (int i = 0; i < shards.length; i++) {
        shards[i] = new ArrayDeque<>();
      }
      queues.add(shards);
    }
  }

  synchronized CodelConfig config() {
    return config;
  }

  /** Whether {@code next} differs from this gate's configuration only where it can change in place. */
  synchronized boolean retunable(CodelConfig next) {
    return next != null && config.withReserveHigh(next.reserveHigh()).equals(next);
  }

  /**
   * A reload that changed only {@code reserve_high}: applied in place, so the slots in flight stay
   * counted. A smaller reserve may let waiters in at once.
   */
  synchronized Moves reconfigure(CodelConfig next, long nowNanos) {
    if (!retunable(next)) {
      throw new IllegalArgumentException("only reserve_high changes in place: " + config + " -> " + next);
    }
    config = next;
    return drain(nowNanos, false);
  }

  /** Takes a slot at once, or queues the waiter, or says the queue is full. */
  synchronized Entry enter(Waiter w) {
    Priority priority = w.ticket().request().priority();
    if (inflight < config.slotsFor(priority) && queuedAtOrAbove(priority) == 0) {
      inflight++;
      w.ticket().gate(this);
      return Entry.ADMITTED;
    }
    if (queued >= config.maxQueued()) {
      return Entry.FULL;
    }
    int p = w.ticket().request().priority().ordinal();
    ArrayDeque<Waiter>[] shards = queues.get(p);
    shards[shardFor(w, shards)].addLast(w);
    queuedByPriority[p]++;
    queued++;
    return Entry.QUEUED;
  }

  /** Waiters of {@code p} or a better priority: they are owed a free slot before a newcomer of {@code p}. */
  private int queuedAtOrAbove(Priority p) {
    int n = 0;
    for (int i = 0; i <= p.ordinal(); i++) {
      n += queuedByPriority[i];
    }
    return n;
  }

  /** The shortest queue of the tenant's hand (ties: the first); 0 without shards. */
  private int shardFor(Waiter w, ArrayDeque<Waiter>[] shards) {
    if (shards.length == 1 || w.ticket().request().tenant() == null) {
      return 0;
    }
    int[] hand = ShuffleShard.hand(ShuffleShard.key(w.ticket().request().tenant()), 0, shards.length,
        config.queueHandSize());
    int best = hand[0];
    for (int s : hand) {
      if (shards[s].size() < shards[best].size()) {
        best = s;
      }
    }
    return best;
  }

  /** The next non-empty shard of priority {@code p} in round-robin order, taking its head. */
  private Waiter pollNext(int p) {
    ArrayDeque<Waiter>[] shards = queues.get(p);
    for (int i = 0; i < shards.length; i++) {
      int s = (turn[p] + i) % shards.length;
      Waiter w = shards[s].pollFirst();
      if (w != null) {
        turn[p] = (s + 1) % shards.length;
        queuedByPriority[p]--;
        queued--;
        return w;
      }
    }
    return null;
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
      for (int p = 0; p < queues.size(); p++) {
        for (ArrayDeque<Waiter> q : queues.get(p)) {
          while (!q.isEmpty() && now - q.peekFirst().sinceNanos() > maxWaitNanos) {
            shed.add(q.pollFirst());
            queuedByPriority[p]--;
            queued--;
          }
        }
      }
    }
    for (Priority p : Priority.values()) {
      Codel codel = codels[p.ordinal()];
      int slots = config.slotsFor(p);
      while (inflight < slots && queuedByPriority[p.ordinal()] > 0) {
        Waiter w = pollNext(p.ordinal());
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

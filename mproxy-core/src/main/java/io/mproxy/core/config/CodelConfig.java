package io.mproxy.core.config;

/**
 * CoDel settings for admission shedding.
 *
 * <p>Top level with {@code maxInflight > 0}: a priority gate. At most {@code maxInflight} admitted
 * requests are between admission and completion at once; the rest wait in one FIFO per priority
 * (HIGH served first, then NORMAL, then LOW; {@code maxQueued} waiting in all, never longer than
 * {@code maxWaitMs}), and each priority's queue runs CoDel at its head: once its sojourn has stayed
 * above {@code targetMs} for a whole {@code intervalMs}, heads still above target are shed. LOW
 * starves first, so it is shed first; HIGH last.
 *
 * <p>Without a gate (per group, or top level with {@code maxInflight = 0}): sojourn is measured
 * from admission to dispatch, and each interval above target refuses one more priority at
 * admission (LOW, then NORMAL, then HIGH); each interval at or below target takes one back.
 *
 * <p>With {@code queueShards > 1} each priority's queue of the gate is split into that many FIFOs
 * served round-robin, and a tenant's requests wait in the shortest of its stable shuffle-shard
 * hand of {@code queueHandSize} of them: a flooding tenant fills its own few shards, and the
 * tenants hashed elsewhere keep their turn.
 *
 * <p>{@code reserveHigh} slots of {@code maxInflight} are HIGH's alone: NORMAL and LOW take a slot
 * only while fewer than {@code maxInflight - reserveHigh} are in flight. The gate reorders waiters
 * but cannot preempt a running request, so without a reserve a HIGH request arriving while a LOW
 * flood holds every slot waits for one of those requests to finish; with one it finds a slot free.
 */
public record CodelConfig(long targetMs, long intervalMs, int maxInflight, int maxQueued, long maxWaitMs,
    int queueShards, int queueHandSize, int reserveHigh) {

  public static final int DEFAULT_MAX_QUEUED = 10_000;
  public static final long DEFAULT_MAX_WAIT_MS = 1_000;

  public CodelConfig {
    if (targetMs <= 0 || intervalMs <= 0) {
      throw new IllegalArgumentException("codel target_ms and interval_ms must be > 0");
    }
    if (maxInflight < 0 || maxQueued < 0 || maxWaitMs <= 0) {
      throw new IllegalArgumentException("codel max_inflight, max_queued >= 0 and max_wait_ms > 0");
    }
    if (queueShards < 1 || queueHandSize < 1 || queueHandSize > queueShards) {
      throw new IllegalArgumentException("codel queue_shards >= 1 and 1 <= queue_hand_size <= queue_shards");
    }
    if (reserveHigh < 0 || (reserveHigh > 0 && reserveHigh >= maxInflight)) {
      throw new IllegalArgumentException("codel reserve_high must be >= 0 and < max_inflight");
    }
  }

  /** Queue shards without a HIGH reserve. */
  public CodelConfig(long targetMs, long intervalMs, int maxInflight, int maxQueued, long maxWaitMs,
      int queueShards, int queueHandSize) {
    this(targetMs, intervalMs, maxInflight, maxQueued, maxWaitMs, queueShards, queueHandSize, 0);
  }

  /** One queue per priority (no queue shards). */
  public CodelConfig(long targetMs, long intervalMs, int maxInflight, int maxQueued, long maxWaitMs) {
    this(targetMs, intervalMs, maxInflight, maxQueued, maxWaitMs, 1, 1, 0);
  }

  /** Without a gate: shedding at admission only. */
  public CodelConfig(long targetMs, long intervalMs) {
    this(targetMs, intervalMs, 0, DEFAULT_MAX_QUEUED, DEFAULT_MAX_WAIT_MS);
  }

  public boolean gated() {
    return maxInflight > 0;
  }

  /** This configuration with another HIGH reserve (what a reload may change in place). */
  public CodelConfig withReserveHigh(int reserve) {
    return new CodelConfig(targetMs, intervalMs, maxInflight, maxQueued, maxWaitMs, queueShards,
        queueHandSize, reserve);
  }

  /** How many slots a request of {@code p} may fill: all for HIGH, all but the reserve otherwise. */
  public int slotsFor(Priority p) {
    return p == Priority.HIGH ? maxInflight : maxInflight - reserveHigh;
  }
}

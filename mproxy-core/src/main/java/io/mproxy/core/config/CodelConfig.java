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
 */
public record CodelConfig(long targetMs, long intervalMs, int maxInflight, int maxQueued, long maxWaitMs,
    int queueShards, int queueHandSize) {

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
  }

  /** One queue per priority (no queue shards). */
  public CodelConfig(long targetMs, long intervalMs, int maxInflight, int maxQueued, long maxWaitMs) {
    this(targetMs, intervalMs, maxInflight, maxQueued, maxWaitMs, 1, 1);
  }

  /** Without a gate: shedding at admission only. */
  public CodelConfig(long targetMs, long intervalMs) {
    this(targetMs, intervalMs, 0, DEFAULT_MAX_QUEUED, DEFAULT_MAX_WAIT_MS);
  }

  public boolean gated() {
    return maxInflight > 0;
  }
}

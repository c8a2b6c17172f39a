package io.mproxy.server.config;

import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.Mode;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Binds {@code resource_groups:}. A file without a {@code default} group gets the unlimited one,
 * so unmatched tenants are never refused by accident.
 */
final class ResourceGroupBinder {

  static final List<String> KEYS = List.of("ru_per_sec", "burst", "priority", "on_exhausted",
      "max_queue_ms", "max_queued", "max_debt", "codel", "mode");
  /** A group's {@code codel:}: judged on its own requests at admission (no gate). */
  static final List<String> GROUP_CODEL_KEYS = List.of("target_ms", "interval_ms");
  /** The top-level {@code codel:}; {@code max_inflight > 0} turns on the priority gate. */
  static final List<String> GLOBAL_CODEL_KEYS =
      List.of("target_ms", "interval_ms", "max_inflight", "max_queued", "max_wait_ms", "queue_shards",
          "queue_hand_size", "reserve_high");
  static final long DEFAULT_CODEL_TARGET_MS = 5;
  static final long DEFAULT_CODEL_INTERVAL_MS = 100;
  static final long DEFAULT_MAX_QUEUE_MS = 1_000;
  static final int DEFAULT_MAX_QUEUED = 1_000;
  static final Priority DEFAULT_PRIORITY = Priority.NORMAL;
  static final OnExhausted DEFAULT_ON_EXHAUSTED = OnExhausted.REJECT;

  private final Problems problems;

  ResourceGroupBinder(Problems problems) {
    this.problems = problems;
  }

  Map<String, ResourceGroupConfig> bindAll(MapReader top) {
    Map<String, ResourceGroupConfig> groups = new LinkedHashMap<>();
    top.mapping("resource_groups").ifPresent(map -> map.entries().values().forEach(e ->
        ConfigBinder.namedSection(e, problems, KEYS)
            .ifPresent(r -> groups.put(e.key(), bind(e.key(), r)))));
    groups.putIfAbsent(ResourceGroupConfig.DEFAULT_GROUP, ResourceGroupConfig.unlimitedDefault());
    return groups;
  }

  private ResourceGroupConfig bind(String name, MapReader g) {
    Range positive = Range.greaterThan(0);
    Optional<Double> rate = g.number("ru_per_sec", positive);
    if (!g.has("ru_per_sec")) {
      g.reportMissing("ru_per_sec", positive.toString());
    }
    double ruPerSec = rate.orElse(1.0);
    double burst = g.number("burst", ruPerSec, positive);
    double maxDebt = g.number("max_debt", burst, Range.atLeast(0));
    Priority priority = g.choice("priority", Priority.class, DEFAULT_PRIORITY);
    OnExhausted onExhausted = g.choice("on_exhausted", OnExhausted.class, DEFAULT_ON_EXHAUSTED);
    long maxQueueMs = g.integer("max_queue_ms", DEFAULT_MAX_QUEUE_MS, Range.atLeast(0));
    int maxQueued = g.int32("max_queued", DEFAULT_MAX_QUEUED, Range.atLeast(0));
    CodelConfig codel = g.section("codel", GROUP_CODEL_KEYS).map(c -> codel(c, false)).orElse(null);
    Mode mode = g.choice("mode", Mode.class, Mode.ENFORCE);
    g.rejectUnknownKeys();
    return new ResourceGroupConfig(name, ruPerSec, burst, priority, onExhausted, maxQueueMs,
        maxQueued, maxDebt, codel, mode);
  }

  /** Binds a {@code codel:} mapping; only the top-level one may set the gate's keys. */
  static CodelConfig codel(MapReader c, boolean global) {
    Range positive = Range.greaterThan(0);
    long target = c.integer("target_ms", DEFAULT_CODEL_TARGET_MS, positive);
    long interval = c.integer("interval_ms", DEFAULT_CODEL_INTERVAL_MS, positive);
    int maxInflight = global ? c.int32("max_inflight", 0, Range.atLeast(0)) : 0;
    int maxQueued = global ? c.int32("max_queued", CodelConfig.DEFAULT_MAX_QUEUED, Range.atLeast(0))
        : CodelConfig.DEFAULT_MAX_QUEUED;
    long maxWait = global ? c.integer("max_wait_ms", CodelConfig.DEFAULT_MAX_WAIT_MS, positive)
        : CodelConfig.DEFAULT_MAX_WAIT_MS;
    int shards = global ? c.int32("queue_shards", 1, Range.atLeast(1)) : 1;
    int hand = global ? c.int32("queue_hand_size", Math.min(2, shards), Range.between(1, shards)) : 1;
    int reserveHigh = global ? c.int32("reserve_high", 0, Range.between(0, Math.max(0, maxInflight - 1))) : 0;
    c.rejectUnknownKeys();
    return new CodelConfig(target, interval, maxInflight, maxQueued, maxWait, shards, hand, reserveHigh);
  }
}

package io.mproxy.server.config;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
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
      "max_queue_ms", "max_queued", "max_debt");
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
    g.rejectUnknownKeys();
    return new ResourceGroupConfig(name, ruPerSec, burst, priority, onExhausted, maxQueueMs,
        maxQueued, maxDebt);
  }
}

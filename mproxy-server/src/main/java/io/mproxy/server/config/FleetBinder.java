package io.mproxy.server.config;

import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.server.config.YamlNode.Scalar;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Binds the optional top-level {@code cluster:} section (fleet budget sharing over gossip; not
 * to be confused with {@code clusters:}, the backend clusters).
 *
 * <pre>
 * cluster:
 *   bind: 10.0.0.5:7946          # required; the host is what peers dial
 *   seeds: [10.0.0.4:7946]       # default: none (the first node)
 *   expected_nodes: 3            # required, &gt;= 1
 *   gossip_interval_ms: 500      # &gt; 0
 *   stale_after_ms: 2000         # &gt; gossip_interval_ms
 *   fallback_share: 0.333        # fraction of each group's limit while alone; default 1/expected_nodes
 *   share_floor: 0.05            # fraction of an equal split a live node keeps; 0 &lt; x &lt; 1
 * </pre>
 */
final class FleetBinder {

  static final String SECTION = "cluster";
  static final List<String> KEYS = List.of("bind", "seeds", "expected_nodes", "gossip_interval_ms",
      "stale_after_ms", "fallback_share", "share_floor");

  private final Problems problems;

  FleetBinder(Problems problems) {
    this.problems = problems;
  }

  Optional<FleetConfig> bind(MapReader top) {
    return top.section(SECTION, KEYS).flatMap(this::bindSection);
  }

  private Optional<FleetConfig> bindSection(MapReader c) {
    Optional<HostPort> bind = c.requiredHostPort("bind", ListenerBinder.PORTS);
    bind.filter(b -> isWildcard(b.host())).ifPresent(b -> c.report(c.valueMark("bind"),
        "bind: " + b + " (expected: an address peers can dial, not a wildcard)"));
    List<HostPort> seeds = seeds(c);
    Optional<Integer> expected = c.int32("expected_nodes", Range.atLeast(1));
    if (!c.has("expected_nodes")) {
      c.reportMissing("expected_nodes", Range.atLeast(1).toString());
    }
    long interval = c.integer("gossip_interval_ms", FleetConfig.DEFAULT_GOSSIP_INTERVAL_MS, Range.greaterThan(0));
    long stale = c.integer("stale_after_ms", Math.max(FleetConfig.DEFAULT_STALE_AFTER_MS, 3 * interval),
        Range.greaterThan(0));
    if (c.has("stale_after_ms") && stale <= interval) {
      c.report(c.valueMark("stale_after_ms"), "stale_after_ms: " + stale
          + " (expected: > gossip_interval_ms, " + interval + ")");
    }
    int nodes = expected.orElse(1);
    double fallback = fraction(c, "fallback_share", 1.0 / nodes, true);
    double floor = fraction(c, "share_floor", FleetConfig.DEFAULT_SHARE_FLOOR, false);
    c.rejectUnknownKeys();
    if (bind.isEmpty() || expected.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new FleetConfig(bind.get(), seeds, nodes, interval, stale, fallback, floor));
  }

  /** A fraction in (0, 1], or in (0, 1) when {@code oneAllowed} is false. */
  private static double fraction(MapReader c, String key, double defaultValue, boolean oneAllowed) {
    Optional<Double> v = c.number(key, Range.greaterThan(0));
    if (v.isEmpty()) {
      return defaultValue;
    }
    double x = v.get();
    if (oneAllowed ? x > 1 : x >= 1) {
      c.report(c.valueMark(key), key + ": " + x + " (expected: > 0 and " + (oneAllowed ? "<= 1" : "< 1") + ")");
      return defaultValue;
    }
    return x;
  }

  private List<HostPort> seeds(MapReader c) {
    List<HostPort> out = new ArrayList<>();
    c.list("seeds").ifPresent(list -> {
      for (YamlNode item : list.items()) {
        if (!(item instanceof Scalar s)) {
          problems.report(item.mark(), "seeds: " + item.describe() + " (expected: host:port)");
          continue;
        }
        try {
          HostPort seed = HostPort.parse(s.text());
          if (seed.port() == 0) {
            problems.report(s.mark(), "seeds: port 0 (expected: 1..65535)");
            continue;
          }
          out.add(seed);
        } catch (IllegalArgumentException e) {
          problems.report(s.mark(), "seeds: " + e.getMessage());
        }
      }
    });
    return out;
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
  }
}

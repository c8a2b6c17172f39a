package io.mproxy.core.config;

import java.util.List;

/**
 * The top-level {@code cluster:} section: this node's place in a fleet that shares every resource
 * group's {@code ru_per_sec} as one global budget over SWIM gossip. Absent, a node is alone and
 * enforces the whole limit itself.
 *
 * @param bind the gossip address: the port is bound on all interfaces, the host is what peers dial
 * @param seeds members to join through (may be empty for the first node; may include itself)
 * @param expectedNodes how many nodes the operator runs; sizes the default fallback share
 * @param gossipIntervalMs how often this node publishes its demand and recomputes its shares
 * @param staleAfterMs a peer not heard from for longer than this drops out of the split
 * @param fallbackShare the fraction of each group's limit this node enforces while it knows no
 *     live peer; {@code 1 / expectedNodes} unless configured
 * @param shareFloor the fraction of an equal split every live node keeps whatever its demand
 */
public record FleetConfig(
    HostPort bind,
    List<HostPort> seeds,
    int expectedNodes,
    long gossipIntervalMs,
    long staleAfterMs,
    double fallbackShare,
    double shareFloor) {

  public static final long DEFAULT_GOSSIP_INTERVAL_MS = 500;
  public static final long DEFAULT_STALE_AFTER_MS = 2_000;
  public static final double DEFAULT_SHARE_FLOOR = 0.05;

  public FleetConfig {
    seeds = List.copyOf(seeds);
  }

  /** True when a reload from this config to {@code next} needs a restart to take effect. */
  public boolean needsRestartFor(FleetConfig next) {
    return !bind.equals(next.bind) || !seeds.equals(next.seeds) || gossipIntervalMs != next.gossipIntervalMs;
  }
}

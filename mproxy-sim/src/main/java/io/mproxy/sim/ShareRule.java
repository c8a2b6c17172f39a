package io.mproxy.sim;

/**
 * How a node turns the fleet's gossiped demand into its own share of a group's global RU budget.
 * The production rule belongs in {@code io.mproxy.core.share} (the gossip issue); the simulation
 * runs whatever implements this seam.
 */
interface ShareRule {

  /**
   * @param global the group's fleet-wide ru_per_sec
   * @param own this node's recent demand (RU/s asked for, admitted or not)
   * @param peers the recent demand of every peer whose data is fresh (not older than stale_after)
   * @param expectedNodes the configured fleet size, for the fallback share
   * @return this node's refill rate, RU/s (never zero, never above {@code global})
   */
  double share(double global, double own, double[] peers, int expectedNodes);
}

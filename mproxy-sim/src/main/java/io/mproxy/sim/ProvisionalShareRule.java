package io.mproxy.sim;

/**
 * A stand-in for the fleet share computation until {@code io.mproxy.core.share} lands on main:
 * proportional to demand with a floor of 2% of the budget per node (so an idle node can start),
 * summing to the budget over the live members a node knows; with no live peer, the fail-safe
 * fallback {@code global / expectedNodes}. It implements the rule issue 5 states, no more.
 */
final class ProvisionalShareRule implements ShareRule {

  private static final double FLOOR_FRACTION = 0.02;

  @Override
  public double share(double global, double own, double[] peers, int expectedNodes) {
    if (peers.length == 0) {
      return global / Math.max(1, expectedNodes);
    }
    double floor = global * FLOOR_FRACTION;
    double total = Math.max(0, own) + floor;
    for (double p : peers) {
      total += Math.max(0, p) + floor;
    }
    return global * (Math.max(0, own) + floor) / total;
  }
}

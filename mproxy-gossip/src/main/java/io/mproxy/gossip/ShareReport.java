package io.mproxy.gossip;

import java.util.Map;

/**
 * What one node publishes every gossip interval: for each resource group, its demand (EWMA of RU
 * asked for per second) and the share it currently enforces.
 *
 * @param node the sender's member id
 * @param seq grows by one per report from the same node instance, so a late duplicate never
 *     overwrites a newer report
 * @param groups group name to demand and share
 */
public record ShareReport(String node, long seq, Map<String, GroupFigures> groups) {

  public ShareReport {
    groups = Map.copyOf(groups);
  }

  /** One group's figures, both in RU per second. */
  public record GroupFigures(double demand, double share) {
  }
}

package io.mproxy.core.share;

import java.util.Collection;

/**
 * Computes this node's share of one group's global RU limit from its own demand and what its
 * live peers last reported.
 *
 * <p>The rule, applied identically by every node: each of the {@code n} live nodes keeps a floor of
 * {@code floorFraction * limit / n}; the rest of the limit is split in proportion to demand (evenly
 * when nobody asks for anything). With the same inputs the targets of all nodes sum to the limit.
 * Inputs differ while gossip propagates, so a node also never takes more than what its peers'
 * advertised shares leave over: a node that wants more waits one round for the others to give it
 * up, which keeps the fleet's total near the limit while shares move. The floor is never cut.
 *
 * <p>Fail-safe: peers whose report is older than {@code staleAfter} drop out; with no live peer
 * the node enforces the fallback fraction of the limit, which is never zero and never unlimited.
 *
 * <p>Pure and stateless: no clock, no I/O; safe to share between threads.
 */
public final class ShareCalculator {

  private final ShareSettings settings;

  public ShareCalculator(ShareSettings settings) {
    this.settings = settings;
  }

  public ShareSettings settings() {
    return settings;
  }

  /**
   * This node's share of {@code globalLimit} at {@code nowNanos}.
   *
   * @param localDemand this node's demand EWMA in RU per second
   * @param peers the latest report from each peer for this group (stale ones are skipped here)
   */
  public Share compute(double globalLimit, double localDemand, Collection<PeerReport> peers, long nowNanos) {
    if (!(globalLimit > 0) || !Double.isFinite(globalLimit)) {
      throw new IllegalArgumentException("globalLimit: " + globalLimit + " (expected: > 0)");
    }
    double ownDemand = Double.isFinite(localDemand) && localDemand > 0 ? localDemand : 0;
    int live = 0;
    double peerDemand = 0;
    double peerShares = 0;
    for (PeerReport p : peers) {
      if (!p.liveAt(nowNanos, settings.staleAfterNanos()) || !p.sane()) {
        continue;
      }
      live++;
      peerDemand += p.demand();
      peerShares += Math.min(p.share(), globalLimit);
    }
    if (live == 0) {
      return new Share(globalLimit * settings.fallbackFraction(), ShareMode.FALLBACK, 1);
    }
    int n = live + 1;
    double floor = globalLimit * settings.floorFraction() / n;
    double totalDemand = ownDemand + peerDemand;
    double target = totalDemand > 0
        ? floor + (globalLimit - floor * n) * (ownDemand / totalDemand)
        : globalLimit / n;
    double leftOver = globalLimit - peerShares;
    double share = Math.max(floor, Math.min(target, leftOver));
    return new Share(share, ShareMode.SHARED, n);
  }
}

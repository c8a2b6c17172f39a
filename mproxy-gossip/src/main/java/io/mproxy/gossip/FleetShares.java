package io.mproxy.gossip;

import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.admission.ResourceGroups;
import io.mproxy.core.share.DemandEwma;
import io.mproxy.core.share.PeerReport;
import io.mproxy.core.share.Share;
import io.mproxy.core.share.ShareCalculator;
import io.mproxy.core.share.ShareSettings;
import io.mproxy.core.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One node's side of the budget exchange, without any networking: it keeps the latest report of
 * every peer (stamped with this node's clock on arrival), samples its own groups' demand, and on
 * every round sets each group's bucket to the share {@link ShareCalculator} computes, returning
 * the report to publish. The gossip transport feeds it and drains it; a test can drive it by hand.
 *
 * <p>Thread-safe (rounds run on the housekeeping thread, reports arrive on gossip threads); the
 * request path never touches it — it only sees the bucket rates it sets.
 */
public final class FleetShares {

  /** Peers remembered at most; reports from further unknown nodes are dropped until some expire. */
  public static final int MAX_PEERS = 4_096;
  static final long DEMAND_TAU_NANOS = 1_000_000_000L;

  private final String self;
  private final ResourceGroups groups;
  private final Clock clock;
  private final Map<String, Heard> peers = new HashMap<>();
  private final Map<String, DemandEwma> demand = new HashMap<>();
  private final Map<String, GroupState> last = new TreeMap<>();
  private ShareCalculator calculator;
  private long seq;

  public FleetShares(String self, ResourceGroups groups, Clock clock, ShareSettings settings) {
    this.self = self;
    this.groups = groups;
    this.clock = clock;
    this.calculator = new ShareCalculator(settings);
  }

  public String self() {
    return self;
  }

  /** Applies reloaded settings (stale time, expected nodes, fallback, floor) from the next round on. */
  public synchronized void settings(ShareSettings next) {
    this.calculator = new ShareCalculator(next);
  }

  public synchronized ShareSettings settings() {
    return calculator.settings();
  }

  /** Records a peer's report; older or duplicate reports from the same node are ignored. */
  public synchronized void accept(ShareReport report) {
    if (report.node().equals(self)) {
      return;
    }
    long now = clock.nanoTime();
    Heard prev = peers.get(report.node());
    if (prev != null && prev.report.seq() >= report.seq()) {
      return;
    }
    if (prev == null && peers.size() >= MAX_PEERS && !evictStale(now)) {
      return;
    }
    peers.put(report.node(), new Heard(report, now));
  }

  /** Forgets a peer at once (it left or was declared dead), instead of waiting for it to go stale. */
  public synchronized void forget(String node) {
    peers.remove(node);
  }

  /**
   * Samples demand, computes and applies every group's share, and returns the report this node
   * should publish now.
   */
  public synchronized ShareReport round() {
    long now = clock.nanoTime();
    evictStale(now);
    Map<String, ShareReport.GroupFigures> figures = new LinkedHashMap<>();
    Set<String> names = new java.util.HashSet<>();
    for (ResourceGroup g : groups.all()) {
      names.add(g.name());
      double d = demand.computeIfAbsent(g.name(), n -> new DemandEwma(DEMAND_TAU_NANOS))
          .sample(g.ruAskedTotal(), now);
      double limit = g.config().ruPerSec();
      Share share = calculator.compute(limit, d, peerReports(g.name()), now);
      g.share(Math.max(share.ruPerSec(), limit * 1e-9));
      last.put(g.name(), new GroupState(d, share));
      figures.put(g.name(), new ShareReport.GroupFigures(d, g.shareRuPerSec()));
    }
    demand.keySet().retainAll(names);
    last.keySet().retainAll(names);
    return new ShareReport(self, ++seq, figures);
  }

  /** Gives every group back its whole configured limit: this node no longer takes part. */
  public synchronized void leave() {
    for (ResourceGroup g : groups.all()) {
      g.unshare();
    }
    peers.clear();
    last.clear();
  }

  /** What the status page shows: peers heard from and each group's last computed share. */
  public synchronized Snapshot snapshot() {
    long now = clock.nanoTime();
    long staleAfter = calculator.settings().staleAfterNanos();
    List<PeerState> heard = new ArrayList<>();
    for (Map.Entry<String, Heard> e : new TreeMap<>(peers).entrySet()) {
      long age = now - e.getValue().heardAtNanos;
      heard.add(new PeerState(e.getKey(), age / 1_000_000, age <= staleAfter));
    }
    return new Snapshot(self, List.copyOf(heard), Map.copyOf(last));
  }

  private List<PeerReport> peerReports(String group) {
    List<PeerReport> out = new ArrayList<>(peers.size());
    for (Heard h : peers.values()) {
      ShareReport.GroupFigures f = h.report.groups().get(group);
      if (f != null) {
        out.add(new PeerReport(h.report.node(), f.demand(), f.share(), h.heardAtNanos));
      }
    }
    return out;
  }

  /**
   * Drops peers not heard from for ten stale periods: long gone, and their memory is bounded.
   * Returns true when something was dropped.
   */
  private boolean evictStale(long now) {
    long limit = 10 * calculator.settings().staleAfterNanos();
    return peers.values().removeIf(h -> now - h.heardAtNanos > limit);
  }

  private record Heard(ShareReport report, long heardAtNanos) {
  }

  /** A group's demand EWMA and the share computed for it in the last round. */
  public record GroupState(double demandRuPerSec, Share share) {
  }

  /** A peer this node has heard from: how long ago, and whether that still counts. */
  public record PeerState(String node, long heardMillisAgo, boolean live) {
  }

  /** The state shown on the status page. */
  public record Snapshot(String self, List<PeerState> peers, Map<String, GroupState> groups) {
  }
}

package io.mproxy.sim;

import io.mproxy.sim.SimConfig.TenantSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of one run: per-tenant statistics, per-backend load, per-node RU series, the
 * invariants checked, and the event log's count and hash (equal for equal seeds).
 */
public final class SimResult {

  /** Load one simulated backend saw. */
  public record BackendStats(String name, int capacity, double utilisation, int maxOutstanding, long opens,
      int maxOpensPerSecond, long crashes, long served, long[] dispatchedByNode) {

    public long dispatched() {
      long s = 0;
      for (long d : dispatchedByNode) {
        s += d;
      }
      return s;
    }
  }

  private final SimConfig config;
  private final List<TenantStats> tenants;
  private final List<BackendStats> backends;
  private final Series[][] ruByNodeGroup;
  private final double[][] shareByNodeGroup;
  private final Invariants invariants;
  private final long events;
  private final long logHash;
  private final long logCount;
  private final List<String> trace;
  private final long gossipSent;
  private final long gossipLost;

  private SimResult(SimConfig config, List<TenantStats> tenants, List<BackendStats> backends,
      Series[][] ruByNodeGroup, double[][] shareByNodeGroup, Invariants invariants, long events, EventLog log,
      long gossipSent, long gossipLost) {
    this.config = config;
    this.tenants = List.copyOf(tenants);
    this.backends = List.copyOf(backends);
    this.ruByNodeGroup = ruByNodeGroup;
    this.shareByNodeGroup = shareByNodeGroup;
    this.invariants = invariants;
    this.events = events;
    this.logHash = log.hash();
    this.logCount = log.count();
    this.trace = log.recent();
    this.gossipSent = gossipSent;
    this.gossipLost = gossipLost;
  }

  static SimResult collect(SimConfig config, VirtualTime time, EventLog log, Invariants inv,
      List<SimBackend> servers, List<ProxyNode> nodes, List<TenantStats> stats, GossipNetwork net,
      long attemptsIssued) {
    long now = time.nanoTime();
    inv.check(inv.answered == attemptsIssued, now,
        "attempts answered " + inv.answered + " of " + attemptsIssued + " issued (requests lost without an answer)");
    inv.check(inv.settled == inv.admitted, now,
        "admitted " + inv.admitted + " but settled " + inv.settled + " (tickets not settled exactly once)");
    for (SimBackend s : servers) {
      inv.check(s.outstanding() == 0 || s.state() == SimBackend.State.HUNG, now,
          "backend " + s.spec.name() + " still has " + s.outstanding() + " requests after the drain");
    }
    for (int t = 0; t < stats.size(); t++) {
      TenantSpec spec = config.tenants().get(t);
      ProxyNode n = nodes.get(spec.node());
      int g = groupIndex(config, spec.group());
      stats.get(t).ru = n.group(g).ruChargedTotal();
      for (SimBackend s : servers) {
        stats.get(t).busyNanos += s.busyNanos(t);
      }
    }
    List<BackendStats> bs = new ArrayList<>();
    double seconds = config.endMs() / 1000.0;
    for (int b = 0; b < servers.size(); b++) {
      SimBackend s = servers.get(b);
      long[] byNode = new long[nodes.size()];
      for (int n = 0; n < nodes.size(); n++) {
        byNode[n] = nodes.get(n).dispatchedTo(b);
      }
      bs.add(new BackendStats(s.spec.name(), s.spec.capacity(),
          s.busyNanosTotal() / (s.spec.capacity() * seconds * 1e9), s.maxOutstanding(), s.opens(),
          s.maxOpensPerSecond(), s.crashes(), s.served(), byNode));
    }
    int ng = config.groups().size();
    Series[][] ru = new Series[nodes.size()][ng];
    double[][] shares = new double[nodes.size()][ng];
    for (int n = 0; n < nodes.size(); n++) {
      for (int g = 0; g < ng; g++) {
        ru[n][g] = nodes.get(n).ruSeries(g);
        shares[n][g] = nodes.get(n).group(g).shareRuPerSec();
      }
    }
    return new SimResult(config, stats, bs, ru, shares, inv, time.executed(), log, net.sent(), net.lost());
  }

  static int groupIndex(SimConfig config, String group) {
    for (int g = 0; g < config.groups().size(); g++) {
      if (config.groups().get(g).config().name().equals(group)) {
        return g;
      }
    }
    throw new IllegalArgumentException("unknown group " + group);
  }

  public SimConfig config() {
    return config;
  }

  public List<TenantStats> tenants() {
    return tenants;
  }

  public TenantStats tenant(String name) {
    for (TenantStats t : tenants) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("no tenant " + name);
  }

  public List<BackendStats> backends() {
    return backends;
  }

  /** RU charged per sample interval to {@code group} on {@code node}. */
  public Series ru(int node, String group) {
    return ruByNodeGroup[node][groupIndex(config, group)];
  }

  /** The node's share (refill rate) of {@code group} when the run ended. */
  public double share(int node, String group) {
    return shareByNodeGroup[node][groupIndex(config, group)];
  }

  /** RU/s charged to {@code group} over the whole fleet in {@code [fromMs, toMs)}. */
  public double fleetRuPerSec(String group, long fromMs, long toMs) {
    double s = 0;
    for (int n = 0; n < config.nodes(); n++) {
      s += ru(n, group).ratePerSec(fromMs, toMs);
    }
    return s;
  }

  public Invariants invariants() {
    return invariants;
  }

  /** Events the loop ran (every timer, message, arrival and reply). */
  public long events() {
    return events;
  }

  /** Hash over the semantic event log: equal seeds give equal hashes. */
  public long logHash() {
    return logHash;
  }

  public long logCount() {
    return logCount;
  }

  public List<String> trace() {
    return trace;
  }

  public long gossipSent() {
    return gossipSent;
  }

  public long gossipLost() {
    return gossipLost;
  }
}

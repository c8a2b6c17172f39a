package io.mproxy.sim;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.balance.P2cSelector;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.fault.Faults;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.share.DemandEwma;
import io.mproxy.core.share.PeerReport;
import io.mproxy.core.share.Share;
import io.mproxy.core.share.ShareCalculator;
import io.mproxy.core.share.ShareSettings;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.sim.SimConfig.GroupSpec;
import io.mproxy.sim.SimConfig.ProxySpec;
import io.mproxy.sim.SimConfig.TenantSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One proxy node: the production {@link Gateway} (classification, resource groups, token buckets,
 * in-flight RU meter, tickets), production {@link Backend}s and {@link P2cSelector}, and a
 * {@link SimPool} per backend, wired as a protocol session wires them (admit, select, lease,
 * dispatch, complete) but on virtual time. Several nodes share the simulated backends and talk
 * over the {@link GossipNetwork} to split fleet-wide budgets.
 */
final class ProxyNode {

  private static final Origin ORIGIN = new Origin("sim", "sim");
  /** The demand EWMA's time constant, as mproxy-gossip uses it. */
  private static final long DEMAND_TAU_NANOS = 1_000_000_000L;

  final int index;
  private final SimConfig config;
  private final ProxySpec proxy;
  private final VirtualTime time;
  private final EventLog log;
  private final Invariants invariants;
  private final Gateway gateway;
  private final List<Backend> backends = new ArrayList<>();
  private final SimPool[] pools;
  private final P2cSelector selector;
  private final Classification[] classifications;
  private final TenantIdentity[] identities;
  private final String[][] fingerprints;
  private final ResourceGroup[] groups;
  private final int[] tenantGroup;
  private final boolean[] fleetShared;
  private final DemandEwma[] demand;
  private final PeerReport[][] peerReports;
  private final ShareCalculator shares;
  private final long[] dispatchedTo;
  private final Series[] ruByGroup;
  private final double[] ruSeen;
  private GossipNetwork network;
  private List<ProxyNode> fleet = List.of();

  ProxyNode(int index, SimConfig config, VirtualTime time, SimRandom random, EventLog log, Invariants invariants,
      List<SimBackend> servers) {
    this.index = index;
    this.config = config;
    this.proxy = config.proxy();
    this.time = time;
    this.log = log;
    this.invariants = invariants;
    Map<String, ResourceGroupConfig> groupConfigs = new LinkedHashMap<>();
    for (GroupSpec g : config.groups()) {
      groupConfigs.put(g.config().name(), g.config());
    }
    List<TenantRule> rules = new ArrayList<>();
    for (TenantSpec t : config.tenants()) {
      rules.add(new TenantRule(null, t.name(), null, null, t.group(), t.priority(), false));
    }
    ProxyConfig pc = new ProxyConfig(new ServerSettings(0, 1, proxy.ruTickMs(), false), AdminConfig.DEFAULT,
        List.of(), Map.of(), groupConfigs, rules, java.util.Optional.empty(),
        java.util.Optional.ofNullable(proxy.codel()), proxy.runaway());
    this.gateway = new Gateway(pc, time, Telemetry.NOOP, new FingerprintStore(100_000));
    int nt = config.tenants().size();
    this.classifications = new Classification[nt];
    this.identities = new TenantIdentity[nt];
    this.fingerprints = new String[nt][2];
    for (int i = 0; i < nt; i++) {
      TenantSpec t = config.tenants().get(i);
      if (t.node() != index) {
        continue;
      }
      identities[i] = new TenantIdentity("sim", t.name(), null, null);
      classifications[i] = gateway.classify(identities[i]);
      fingerprints[i][0] = t.name() + ":read";
      fingerprints[i][1] = t.name() + ":write";
    }
    int ng = config.groups().size();
    this.groups = new ResourceGroup[ng];
    this.fleetShared = new boolean[ng];
    this.ruByGroup = new Series[ng];
    this.ruSeen = new double[ng];
    for (int g = 0; g < ng; g++) {
      GroupSpec gs = config.groups().get(g);
      groups[g] = gateway.groups().get(gs.config().name());
      fleetShared[g] = gs.fleetShared() && config.nodes() > 1;
      ruByGroup[g] = new Series(config.sampleMs(), config.endMs());
      if (fleetShared[g]) {
        groups[g].share(gs.config().ruPerSec() / Math.max(1, config.gossip().expectedNodes()));
      }
    }
    this.tenantGroup = new int[nt];
    for (int i = 0; i < nt; i++) {
      tenantGroup[i] = classifications[i] == null ? -1 : groupIndex(classifications[i].group());
    }
    this.demand = new DemandEwma[ng];
    for (int g = 0; g < ng; g++) {
      demand[g] = new DemandEwma(DEMAND_TAU_NANOS);
    }
    this.peerReports = new PeerReport[config.nodes()][];
    this.shares = new ShareCalculator(ShareSettings.of(
        TimeUnit.MILLISECONDS.toNanos(config.gossip().staleAfterMs()), config.gossip().expectedNodes()));
    this.pools = new SimPool[servers.size()];
    for (int b = 0; b < servers.size(); b++) {
      SimBackend s = servers.get(b);
      Backend be = new Backend(new BackendConfig(new HostPort(s.spec.name(), 5432), BackendConfig.Role.PRIMARY),
          time);
      backends.add(be);
      pools[b] = new SimPool(index, s, be, proxy.pool(), proxy.health(), proxy.maxWaiters(), time, log);
    }
    this.dispatchedTo = new long[servers.size()];
    this.selector = new P2cSelector(proxy.score(), random.derive("p2c"));
  }

  /** Starts the node's periodic work, as the server does: RU ticks, pool upkeep, health probes, gossip. */
  void start(GossipNetwork net, List<ProxyNode> all) {
    this.network = net;
    this.fleet = all;
    long offset = index * 7_000_000L;
    time.schedule(() -> time.scheduleAtFixedRate(this::tick, TimeUnit.MILLISECONDS.toNanos(proxy.ruTickMs())),
        offset);
    time.schedule(() -> time.scheduleAtFixedRate(this::maintain, 200_000_000L), offset + 1_000_000L);
    time.schedule(() -> time.scheduleAtFixedRate(this::probe,
        TimeUnit.MILLISECONDS.toNanos(proxy.health().intervalMs())), offset + 2_000_000L);
    for (SimPool p : pools) {
      p.maintain();
    }
    if (config.nodes() > 1) {
      time.schedule(() -> time.scheduleAtFixedRate(this::gossip,
          TimeUnit.MILLISECONDS.toNanos(config.gossip().intervalMs())), offset + 3_000_000L);
    }
  }

  ResourceGroup group(int g) {
    return groups[g];
  }

  long dispatchedTo(int backend) {
    return dispatchedTo[backend];
  }

  Series ruSeries(int g) {
    return ruByGroup[g];
  }

  SimPool pool(int b) {
    return pools[b];
  }

  /** One attempt arrives from a client of tenant {@code t}: run the core chain. */
  void handle(int t, Attempt a, TenantStats stats) {
    long now = time.nanoTime();
    log.record(now, EventLog.Kind.ARRIVE, a.id, t);
    stats.attempts++;
    TenantSpec spec = config.tenants().get(t);
    boolean write = a.write;
    long bytesIn = write ? spec.writeBytes() : 48;
    String fp = fingerprints[t][write ? 1 : 0];
    Request request = new Request(identities[t], write ? RequestKind.WRITE : RequestKind.READ,
        write ? "SET" : "GET", fp, bytesIn, now, true);
    Classification c = classifications[t];
    gateway.admit(request, c, ORIGIN, proxy.weights(), time, new AdmissionCallback() {
      @Override
      public void admitted(Ticket ticket) {
        onAdmitted(t, a, stats, ticket, spec);
      }

      @Override
      public void refused(Refusal refusal) {
        log.record(time.nanoTime(), EventLog.Kind.REFUSE, a.id, refusal.reason().ordinal());
        answer(a, Answer.shed(refusal.reason(), refusal.retryAfterMs()));
      }
    });
  }

  private int groupIndex(String name) {
    for (int g = 0; g < groups.length; g++) {
      if (groups[g].name().equals(name)) {
        return g;
      }
    }
    return -1;
  }

  private void onAdmitted(int t, Attempt a, TenantStats stats, Ticket ticket, TenantSpec spec) {
    invariants.admitted++;
    stats.admitted++;
    log.record(time.nanoTime(), EventLog.Kind.ADMIT, a.id, 0);
    Backend b = selector.select(backends);
    if (b == null) {
      settle(a, ticket, Outcome.ERROR, 0);
      answer(a, Answer.UNAVAILABLE);
      return;
    }
    int bi = backends.indexOf(b);
    SimPool pool = pools[bi];
    pool.acquire(new SimPool.Lease() {
      @Override
      public void granted(SimBackend.Conn conn) {
        dispatch(t, a, stats, ticket, spec, bi, pool, conn);
      }

      @Override
      public void failed(String reason) {
        settle(a, ticket, Outcome.ERROR, 0);
        answer(a, Answer.UNAVAILABLE);
      }
    });
  }

  private void dispatch(int t, Attempt a, TenantStats stats, Ticket ticket, TenantSpec spec, int bi, SimPool pool,
      SimBackend.Conn conn) {
    ticket.dispatched(pool.backend());
    long dispatchedAt = time.nanoTime();
    ticket.onCancel(() -> {
      if (ticket.ended()) {
        return;
      }
      stats.cancelled++;
      stats.maxElapsedAtCancelNanos = Math.max(stats.maxElapsedAtCancelNanos, time.nanoTime() - dispatchedAt);
      pool.server().cancel(conn);
    });
    dispatchedTo[bi]++;
    log.record(time.nanoTime(), EventLog.Kind.DISPATCH, a.id, bi);
    boolean[] over = new boolean[1];
    var timer = time.schedule(() -> {
      if (over[0]) {
        return;
      }
      over[0] = true;
      log.record(time.nanoTime(), EventLog.Kind.TIMEOUT, a.id, bi);
      pool.release(conn, false);
      settle(a, ticket, Outcome.TIMEOUT, 0);
      answer(a, Answer.TIMEOUT);
    }, TimeUnit.MILLISECONDS.toNanos(proxy.queryTimeoutMs()));
    pool.server().execute(conn, t, spec.costFactor(), ok -> {
      if (over[0]) {
        return;
      }
      over[0] = true;
      timer.cancel();
      log.record(time.nanoTime(), EventLog.Kind.REPLY, a.id, ok ? 1 : 0);
      stats.maxRunNanos = Math.max(stats.maxRunNanos, time.nanoTime() - dispatchedAt);
      pool.release(conn, ok || ticket.cancelRequested()); // a cancelled query leaves its connection usable
      long bytesOut = ok ? (a.write ? 5 : spec.replyBytes()) : 0;
      settle(a, ticket, ok ? Outcome.OK : Outcome.ERROR, bytesOut);
      answer(a, ok ? Answer.OK : Answer.ERROR);
    });
  }

  /** Ends the ticket exactly once; the {@code admission.settle_delayed} fault point defers it. */
  private void settle(Attempt a, Ticket ticket, Outcome outcome, long bytesOut) {
    if (Faults.SETTLE_DELAYED.fires()) {
      long delay = (long) (Faults.SETTLE_DELAYED.draw() * 100_000_000L);
      time.schedule(() -> settleNow(a, ticket, outcome, bytesOut), delay);
      return;
    }
    settleNow(a, ticket, outcome, bytesOut);
  }

  private void settleNow(Attempt a, Ticket ticket, Outcome outcome, long bytesOut) {
    a.settles++;
    if (!invariants.holds(a.settles == 1)) {
      invariants.violated(time.nanoTime(), "attempt " + a.id + " settled " + a.settles + " times");
    }
    invariants.settled++;
    log.record(time.nanoTime(), EventLog.Kind.COMPLETE, a.id, outcome.ordinal());
    ticket.complete(outcome, bytesOut);
  }

  private void answer(Attempt a, Answer answer) {
    if (!invariants.holds(!a.answered)) {
      invariants.violated(time.nanoTime(), "attempt " + a.id + " answered twice");
    }
    a.answered = true;
    invariants.answered++;
    a.call.client().answered(a, answer);
  }

  private void tick() {
    gateway.tick();
    long now = time.nanoTime();
    for (int g = 0; g < groups.length; g++) {
      ResourceGroup rg = groups[g];
      ResourceGroupConfig gc = rg.config();
      double total = rg.ruChargedTotal();
      ruByGroup[g].add(now - 1, total - ruSeen[g]);
      ruSeen[g] = total;
      if (!invariants.holds(total >= -1e-6)) {
        invariants.violated(now, "group " + rg.name() + " RU charged negative: " + total);
      }
      if (!invariants.holds(rg.queued() <= gc.maxQueued() && rg.queued() >= 0)) {
        invariants.violated(now, "group " + rg.name() + " queue " + rg.queued() + " outside [0, " + gc.maxQueued() + "]");
      }
      double settled = rg.bucket().settled();
      double reserved = rg.bucket().reserved();
      if (!invariants.holds(settled >= -gc.maxDebt() - 1e-6)) {
        invariants.violated(now, "group " + rg.name() + " settled debt " + (-settled) + " beyond max_debt "
            + gc.maxDebt());
      }
      if (!invariants.holds(reserved >= 0)) {
        invariants.violated(now, "group " + rg.name() + " queue reservations negative: " + reserved);
      }
    }
    for (SimPool p : pools) {
      if (!invariants.holds(p.withinBounds())) {
        invariants.violated(now, "node " + index + " pool of " + p.server().spec.name()
          + " outside its bounds");
      }
    }
  }

  private void maintain() {
    for (SimPool p : pools) {
      p.maintain();
    }
  }

  private void probe() {
    for (SimPool p : pools) {
      p.probe();
    }
  }

  /**
   * A gossip round, as mproxy-gossip runs it: sample each shared group's demand (RU asked for,
   * admitted or not), send demand and current share to every peer, and set the bucket to the
   * share {@link ShareCalculator} computes from the peers heard within stale_after.
   */
  private void gossip() {
    long now = time.nanoTime();
    int ng = groups.length;
    double[] ownDemand = new double[ng];
    double[] ownShare = new double[ng];
    for (int g = 0; g < ng; g++) {
      ownDemand[g] = demand[g].sample(groups[g].ruAskedTotal(), now);
      ownShare[g] = groups[g].shareRuPerSec();
    }
    for (ProxyNode peer : fleet) {
      if (peer != this) {
        network.send(index, peer.index, () -> peer.received(index, ownDemand, ownShare));
      }
    }
    List<PeerReport> heard = new ArrayList<>(peerReports.length);
    for (int g = 0; g < ng; g++) {
      if (!fleetShared[g]) {
        continue;
      }
      heard.clear();
      for (PeerReport[] byGroup : peerReports) {
        if (byGroup != null) {
          heard.add(byGroup[g]);
        }
      }
      double limit = config.groups().get(g).config().ruPerSec();
      Share share = shares.compute(limit, ownDemand[g], heard, now);
      groups[g].share(Math.max(share.ruPerSec(), limit * 1e-9));
      log.record(now, EventLog.Kind.SHARE, index * 1_000_000L + g, (long) share.ruPerSec());
    }
  }

  private void received(int from, double[] peerDemand, double[] peerShare) {
    long now = time.nanoTime();
    PeerReport[] reports = new PeerReport[peerDemand.length];
    for (int g = 0; g < peerDemand.length; g++) {
      reports[g] = new PeerReport("node" + from, peerDemand[g], peerShare[g], now);
    }
    peerReports[from] = reports;
  }
}

package io.mproxy.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.balance.CircuitBreaker;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.fingerprint.FingerprintStats;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.gossip.FleetShares;
import io.mproxy.server.RuntimeView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON documents of the admin API, built from a {@link RuntimeView}: {@code /api/status}
 * and {@code /api/fingerprints}. Field names are part of the contract; add, never rename.
 */
final class AdminJson {

  private final ObjectMapper mapper;
  private final RuntimeView view;
  private final RuRateSampler rates;

  AdminJson(ObjectMapper mapper, RuntimeView view, RuRateSampler rates) {
    this.mapper = mapper;
    this.view = view;
    this.rates = rates;
  }

  ObjectNode status() {
    long now = view.gateway().clock().nanoTime();
    ObjectNode root = mapper.createObjectNode();
    root.put("version", view.version());
    root.put("generation", view.generation());
    root.put("transport", view.transport());
    root.put("uptime_seconds", round(Math.max(0, now - view.startedNanos()) / 1e9));
    root.set("listeners", listeners());
    root.set("clusters", clusters());
    root.set("resource_groups", groups(now));
    ObjectNode gate = root.putObject("priority_gate");
    gate.put("max_inflight", view.gateway().gateMaxInflight());
    gate.put("reserve_high", view.gateway().gateReserveHigh());
    gate.put("inflight", view.gateway().gateInflight());
    gate.put("queued", view.gateway().gateQueued());
    root.putObject("runaway").put("watched", view.gateway().runawayWatched());
    ArrayNode members = root.putArray("members");
    view.members().forEach(members::add);
    root.set("fleet", fleet());
    return root;
  }

  /** The fleet as this node sees it: who it heard from and how recently; absent members are alone. */
  private ObjectNode fleet() {
    ObjectNode n = mapper.createObjectNode();
    Optional<FleetShares.Snapshot> snapshot = view.fleetSnapshot();
    n.put("enabled", snapshot.isPresent());
    if (snapshot.isEmpty()) {
      return n;
    }
    n.put("node", snapshot.get().self());
    ArrayNode peers = n.putArray("peers");
    for (FleetShares.PeerState p : snapshot.get().peers()) {
      peers.addObject()
          .put("node", p.node())
          .put("heard_ms_ago", p.heardMillisAgo())
          .put("live", p.live());
    }
    return n;
  }

  ArrayNode fingerprints(int top) {
    ArrayNode out = mapper.createArrayNode();
    for (FingerprintStats f : view.gateway().fingerprints().top(top)) {
      ObjectNode n = out.addObject();
      long count = f.count();
      n.put("fingerprint", f.fingerprint());
      n.put("id", f.id());
      n.put("protocol", f.protocol());
      n.put("count", count);
      n.put("ru_total", round(f.ruTotal()));
      n.put("ru_mean", count == 0 ? 0 : round(f.ruTotal() / count));
      n.put("ru_error", round(f.ruError()));
      ObjectNode latency = n.putObject("latency_ms");
      latency.put("p50", f.latencyMicros(0.50) / 1e3);
      latency.put("p99", f.latencyMicros(0.99) / 1e3);
      latency.put("p999", f.latencyMicros(0.999) / 1e3);
    }
    return out;
  }

  private ArrayNode listeners() {
    ArrayNode out = mapper.createArrayNode();
    for (RuntimeView.ListenerView l : view.listeners()) {
      out.addObject()
          .put("name", l.name())
          .put("protocol", l.protocol())
          .put("bind", l.bind())
          .put("cluster", l.cluster())
          .put("client_connections", l.clientConnections());
    }
    return out;
  }

  private ArrayNode clusters() {
    List<Cluster> sorted = new ArrayList<>(view.clusters());
    sorted.sort(Comparator.comparing(Cluster::name));
    ArrayNode out = mapper.createArrayNode();
    for (Cluster c : sorted) {
      ObjectNode n = out.addObject();
      n.put("name", c.name());
      n.put("protocol", c.config().protocol());
      ArrayNode backends = n.putArray("backends");
      for (Backend b : c.backends()) {
        backends.add(backend(c, b));
      }
    }
    return out;
  }

  private ObjectNode backend(Cluster c, Backend b) {
    ObjectNode n = mapper.createObjectNode();
    n.put("address", b.id());
    n.put("role", lower(b.config().role()));
    n.put("health", lower(b.health()));
    n.put("inflight", b.inflight());
    n.put("ewma_latency_ms", round(b.latencyEwmaNanos() / 1e6));
    CircuitBreaker cb = b.circuit();
    n.put("circuit", b.circuitState().label());
    n.put("circuit_mode", cb == null ? "off" : lower(cb.config().mode()));
    n.put("circuit_opened", cb == null ? 0 : cb.opened());
    n.put("circuit_would_open", cb == null ? 0 : cb.wouldOpen());
    n.put("consecutive_failures", b.consecutiveFailures());
    n.put("last_error", b.lastError());
    n.put("completed", b.completed());
    int idle = 0;
    int active = 0;
    int opening = 0;
    int waiting = 0;
    Map<String, BackendPool> byVariant = c.pools().get(b);
    if (byVariant != null) {
      for (BackendPool p : byVariant.values()) {
        BackendPool.PoolStats s = p.stats();
        idle += s.idle();
        active += s.active();
        opening += s.opening();
        waiting += s.waiting();
      }
    }
    n.putObject("pool")
        .put("idle", idle)
        .put("active", active)
        .put("opening", opening)
        .put("waiting", waiting);
    return n;
  }

  private ArrayNode groups(long now) {
    List<ResourceGroup> sorted = new ArrayList<>(view.gateway().groups().all());
    sorted.sort(Comparator.comparing(ResourceGroup::name));
    Map<String, Double> measured = rates.rates(now, sorted);
    Map<String, FleetShares.GroupState> shares = view.fleetSnapshot()
        .map(FleetShares.Snapshot::groups).orElse(Map.of());
    ArrayNode out = mapper.createArrayNode();
    for (ResourceGroup g : sorted) {
      ResourceGroupConfig c = g.config();
      FleetShares.GroupState fleet = shares.get(g.name());
      out.addObject()
          .put("name", g.name())
          .put("priority", c.priority().label())
          .put("on_exhausted", lower(c.onExhausted()))
          .put("limit_ru_per_sec", c.ruPerSec())
          .put("share_ru_per_sec", round(g.shareRuPerSec()))
          .put("share_mode", fleet == null ? "alone" : lower(fleet.share().mode()))
          .put("fleet_members", fleet == null ? 1 : fleet.share().liveMembers())
          .put("demand_ru_per_sec", fleet == null ? 0 : round(fleet.demandRuPerSec()))
          .put("burst", c.burst())
          .put("tokens", round(g.bucket().tokens()))
          .put("ru_per_sec", round(measured.getOrDefault(g.name(), 0.0)))
          .put("ru_total", round(g.ruChargedTotal()))
          .put("admitted", g.admittedTotal())
          .put("rejected", g.rejectedTotal())
          .put("queued", g.queued())
          .put("inflight", g.inflight())
          .put("mode", lower(c.mode()))
          .put("would_reject", g.wouldRejectTotal())
          .put("would_shed", g.wouldShedTotal())
          .put("codel_level", g.codel() == null ? 0 : g.codel().level());
    }
    return out;
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  /** Three decimals: enough for RU and milliseconds, and readable. Non-finite values become 0. */
  static double round(double v) {
    if (!Double.isFinite(v)) {
      return 0;
    }
    if (Math.abs(v) >= 1e12) {
      return v;
    }
    return Math.round(v * 1000) / 1000.0;
  }
}

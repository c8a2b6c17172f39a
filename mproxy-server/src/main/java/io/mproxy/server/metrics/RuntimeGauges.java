package io.mproxy.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.tls.TlsReloads;
import io.mproxy.server.RuntimeView;
import io.mproxy.server.observe.AccessLogQueue;
import io.mproxy.server.RuntimeView.ListenerView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Gauges read from the running proxy at scrape time: backend load and health, pool connections,
 * client connections, and each resource group's share, tokens and queue. Which series exist
 * depends on the current configuration, so {@link #refresh} must run before each scrape (the
 * admin server does) and periodically for registries nobody scrapes (OTLP; the daemon's
 * housekeeping timer does); it adds the series of new clusters, groups and listeners and drops
 * those of removed ones. Values are always read live when the registry is scraped. Create one per
 * registry.
 *
 * <p>Series, CONTRACT names first: {@code mproxy_backend_inflight{cluster,backend}},
 * {@code mproxy_pool_connections{cluster,backend,state}} (idle|active|opening, summed over the
 * backend's pool variants), {@code mproxy_client_connections{listener}},
 * {@code mproxy_ru_share_per_sec{group}}, {@code mproxy_cluster_members}; and
 * {@code mproxy_backend_up{cluster,backend}}, {@code mproxy_backend_circuit_state{cluster,backend}}
 * (0 closed, 1 half-open, 2 open), {@code mproxy_backend_circuit_would_open{cluster,backend}},
 * {@code mproxy_pool_waiting{cluster,backend}},
 * {@code mproxy_ru_limit_per_sec{group}}, {@code mproxy_ru_tokens{group}},
 * {@code mproxy_queue_depth{group}}, {@code mproxy_group_inflight{group}}; and the counter
 * {@code mproxy_tls_reloads_total{result}} (applied|failed) and
 * {@code mproxy_access_log_dropped_total}.
 */
public final class RuntimeGauges {

  /** The {@code state} label of {@code mproxy_pool_connections}. */
  enum PoolState {
    IDLE("idle", BackendPool.PoolStats::idle),
    ACTIVE("active", BackendPool.PoolStats::active),
    OPENING("opening", BackendPool.PoolStats::opening);

    final String label;
    final ToIntFunction<BackendPool.PoolStats> count;

    PoolState(String label, ToIntFunction<BackendPool.PoolStats> count) {
      this.label = label;
      this.count = count;
    }
  }

  private final RuntimeView view;
  private final GaugeFamily backendInflight;
  private final GaugeFamily backendUp;
  private final GaugeFamily circuitState;
  private final GaugeFamily circuitWouldOpen;
  private final GaugeFamily poolConnections;
  private final GaugeFamily poolWaiting;
  private final GaugeFamily clientConnections;
  private final GaugeFamily ruShare;
  private final GaugeFamily ruLimit;
  private final GaugeFamily ruTokens;
  private final GaugeFamily queueDepth;
  private final GaugeFamily groupInflight;
  /** Per-thread accumulators folded into shared meters before each refresh (see {@link #publishing}). */
  private final java.util.concurrent.CopyOnWriteArrayList<Runnable> publishers =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public RuntimeGauges(RuntimeView view, MeterRegistry registry) {
    this.view = view;
    backendInflight = new GaugeFamily(registry, "mproxy_backend_inflight", "Requests in flight per backend");
    backendUp = new GaugeFamily(registry, "mproxy_backend_up", "1 when the backend is up, 0 when it is down");
    circuitState = new GaugeFamily(registry, "mproxy_backend_circuit_state",
        "The backend's circuit breaker: 0 closed, 1 half-open, 2 open");
    circuitWouldOpen = new GaugeFamily(registry, "mproxy_backend_circuit_would_open",
        "Times a shadow-mode circuit breaker would have opened");
    poolConnections = new GaugeFamily(registry, "mproxy_pool_connections",
        "Backend connections by state (idle, active, opening)");
    poolWaiting = new GaugeFamily(registry, "mproxy_pool_waiting", "Requests waiting for a backend connection");
    clientConnections = new GaugeFamily(registry, "mproxy_client_connections", "Open client connections per listener");
    ruShare = new GaugeFamily(registry, "mproxy_ru_share_per_sec", "This node's share of the group's RU budget");
    ruLimit = new GaugeFamily(registry, "mproxy_ru_limit_per_sec", "The group's configured RU budget (fleet-wide)");
    ruTokens = new GaugeFamily(registry, "mproxy_ru_tokens", "RU tokens in the group's bucket (negative: debt)");
    queueDepth = new GaugeFamily(registry, "mproxy_queue_depth", "Requests waiting for admission");
    groupInflight = new GaugeFamily(registry, "mproxy_group_inflight", "Requests in flight per resource group");
    FunctionCounter.builder("mproxy_tls_reloads", TlsReloads.class, c -> TlsReloads.applied())
        .tag("result", "applied")
        .description("TLS contexts rebuilt because their certificate, key or CA files changed")
        .register(registry);
    FunctionCounter.builder("mproxy_tls_reloads", TlsReloads.class, c -> TlsReloads.failed())
        .tag("result", "failed")
        .description("New TLS file contents that could not be used (the previous certificate stays)")
        .register(registry);
    FunctionCounter.builder("mproxy_access_log_dropped", AccessLogQueue.class, c -> AccessLogQueue.dropped())
        .description("Access log lines dropped because the access log's queue was full")
        .register(registry);
    Gauge.builder("mproxy_cluster_members", view, v -> v.members().size())
        .description("Fleet members this node knows, itself included")
        .strongReference(true)
        .register(registry);
  }

  /** Brings the series in line with the current clusters, groups and listeners. */
  /**
   * Runs {@code publisher} at the start of every {@link #refresh}: before each scrape and on the
   * daemon's housekeeping period (about once a second), so per-event-loop accumulators
   * ({@code MicrometerTelemetry}, {@code UsageMeter}) reach the shared meters at least that often.
   */
  public void publishing(Runnable publisher) {
    publishers.add(publisher);
  }

  public synchronized void refresh() {
    for (Runnable p : publishers) {
      p.run();
    }
    refreshBackends();
    refreshListeners();
    refreshGroups();
  }

  private void refreshBackends() {
    List<GaugeFamily.Row<?>> inflight = new ArrayList<>();
    List<GaugeFamily.Row<?>> up = new ArrayList<>();
    List<GaugeFamily.Row<?>> circuit = new ArrayList<>();
    List<GaugeFamily.Row<?>> wouldOpen = new ArrayList<>();
    List<GaugeFamily.Row<?>> pools = new ArrayList<>();
    List<GaugeFamily.Row<?>> waiting = new ArrayList<>();
    for (Cluster c : view.clusters()) {
      for (Backend b : c.backends()) {
        Tags tags = Tags.of("cluster", c.name(), "backend", b.id());
        inflight.add(GaugeFamily.row(tags, b, Backend::inflight));
        up.add(GaugeFamily.row(tags, b, x -> x.healthy() ? 1 : 0));
        circuit.add(GaugeFamily.row(tags, b, x -> x.circuitState().code()));
        wouldOpen.add(GaugeFamily.row(tags, b, x -> x.circuit() == null ? 0 : x.circuit().wouldOpen()));
        for (PoolState s : PoolState.values()) {
          pools.add(GaugeFamily.row(tags.and("state", s.label), new PoolRef(c, b, s), PoolRef::value));
        }
        waiting.add(GaugeFamily.row(tags, new PoolRef(c, b, null), PoolRef::value));
      }
    }
    backendInflight.update(inflight);
    backendUp.update(up);
    circuitState.update(circuit);
    circuitWouldOpen.update(wouldOpen);
    poolConnections.update(pools);
    poolWaiting.update(waiting);
  }

  private void refreshListeners() {
    List<GaugeFamily.Row<?>> rows = new ArrayList<>();
    for (ListenerView l : view.listeners()) {
      rows.add(GaugeFamily.row(Tags.of("listener", l.name()), l, ListenerView::clientConnections));
    }
    clientConnections.update(rows);
  }

  private void refreshGroups() {
    List<GaugeFamily.Row<?>> share = new ArrayList<>();
    List<GaugeFamily.Row<?>> limit = new ArrayList<>();
    List<GaugeFamily.Row<?>> tokens = new ArrayList<>();
    List<GaugeFamily.Row<?>> queued = new ArrayList<>();
    List<GaugeFamily.Row<?>> inflight = new ArrayList<>();
    for (ResourceGroup g : view.gateway().groups().all()) {
      Tags tags = Tags.of("group", g.name());
      share.add(GaugeFamily.row(tags, g, ResourceGroup::shareRuPerSec));
      limit.add(GaugeFamily.row(tags, g, x -> x.config().ruPerSec()));
      tokens.add(GaugeFamily.row(tags, g, x -> x.bucket().tokens()));
      queued.add(GaugeFamily.row(tags, g, ResourceGroup::queued));
      inflight.add(GaugeFamily.row(tags, g, ResourceGroup::inflight));
    }
    ruShare.update(share);
    ruLimit.update(limit);
    ruTokens.update(tokens);
    queueDepth.update(queued);
    groupInflight.update(inflight);
  }

  /**
   * A backend's pools, summed over their variants at scrape time (variants appear as sessions
   * ask for them); {@code state} null reads the waiters.
   */
  record PoolRef(Cluster cluster, Backend backend, PoolState state) {
    double value() {
      Map<String, BackendPool> byVariant = cluster.pools().get(backend);
      if (byVariant == null) {
        return 0;
      }
      int sum = 0;
      for (BackendPool p : byVariant.values()) {
        BackendPool.PoolStats s = p.stats();
        sum += state == null ? s.waiting() : state.count.applyAsInt(s);
      }
      return sum;
    }
  }
}

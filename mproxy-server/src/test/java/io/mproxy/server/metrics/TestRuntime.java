package io.mproxy.server.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
import io.mproxy.server.RuntimeView;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small running proxy without sockets, for metrics and admin tests: a real {@link Gateway}
 * reporting to {@link MicrometerTelemetry}, one Redis cluster whose pools never connect, and a
 * manual clock and scheduler. Requests are driven by hand through admission and completion.
 *
 * <p>Listener {@code l1} (redis) → cluster {@code c1} (primary 127.0.0.1:7001, replica
 * 127.0.0.1:7002). Groups: {@code default} (1000 RU/s), {@code batch} (1 RU/s, reject, low; user
 * {@code report}), {@code slow} (1 RU/s, queue up to 5 s, low; user {@code slow}).
 */
public final class TestRuntime implements RuntimeView {

  /** A listener as the status page shows it. */
  public record Listener(String name, String protocol, String bind, String cluster, int clientConnections)
      implements ListenerView {
  }

  public static final String VERSION = "0.1.0-test";
  public static final Origin ORIGIN = new Origin("l1", "redis");

  public final ManualClock clock = new ManualClock();
  public final ManualScheduler scheduler = new ManualScheduler(clock);
  public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final MicrometerTelemetry telemetry = new MicrometerTelemetry(registry);
  public final Gateway gateway;
  public final long startedNanos;
  private final List<Cluster> clusters = new CopyOnWriteArrayList<>();
  private volatile List<ListenerView> listeners =
      List.of(new Listener("l1", "redis", "127.0.0.1:6380", "c1", 3));
  private volatile boolean ready;
  private volatile long generation = 1;
  private volatile List<String> members = List.of("node-a");

  public TestRuntime() {
    ProxyConfig config = config(groups());
    gateway = new Gateway(config, clock, telemetry, new FingerprintStore(1000));
    clusters.add(cluster(config.clusters().get("c1")));
    startedNanos = clock.nanoTime();
  }

  public static Map<String, ResourceGroupConfig> groups() {
    Map<String, ResourceGroupConfig> g = new LinkedHashMap<>();
    g.put("default", new ResourceGroupConfig("default", 1000, 1000, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1000));
    g.put("batch", new ResourceGroupConfig("batch", 1, 1, Priority.LOW, OnExhausted.REJECT, 0, 0, 10));
    g.put("slow", new ResourceGroupConfig("slow", 1, 1, Priority.LOW, OnExhausted.QUEUE, 5000, 10, 10));
    return g;
  }

  public static ProxyConfig config(Map<String, ResourceGroupConfig> groups) {
    ListenerConfig l1 = new ListenerConfig("l1", "redis", new HostPort("127.0.0.1", 6380), "c1",
        AuthConfig.PASSTHROUGH, 100, 1 << 20, Map.of());
    List<TenantRule> tenants = new ArrayList<>();
    if (groups.containsKey("batch")) {
      tenants.add(new TenantRule(null, "report", null, null, "batch", null, false));
    }
    if (groups.containsKey("slow")) {
      tenants.add(new TenantRule(null, "slow", null, null, "slow", null, false));
    }
    return new ProxyConfig(ServerSettings.DEFAULT, new AdminConfig(new HostPort("127.0.0.1", 0)), List.of(l1),
        Map.of("c1", clusterConfig("c1", 7001, 7002)), groups, tenants);
  }

  public static ClusterConfig clusterConfig(String name, int primaryPort, int replicaPort) {
    return new ClusterConfig(name, "redis", Credentials.NONE,
        List.of(new BackendConfig(new HostPort("127.0.0.1", primaryPort), BackendConfig.Role.PRIMARY),
            new BackendConfig(new HostPort("127.0.0.1", replicaPort), BackendConfig.Role.REPLICA)),
        BalancerConfig.DEFAULT, PoolConfig.DEFAULT, RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of());
  }

  /** A cluster that is never started: its pools exist but never open a connection. */
  public Cluster cluster(ClusterConfig config) {
    Cluster c = new Cluster(config, new IdleConnector(), new Bootstrap(), clock, scheduler, new SeededRandom(1));
    for (Backend b : c.backends()) {
      c.pool(b, Cluster.DEFAULT_VARIANT);
    }
    return c;
  }

  public Cluster cluster() {
    return clusters.get(0);
  }

  public Backend primary() {
    return cluster().backends().get(0);
  }

  /**
   * Runs admission for one request of {@code user}. The answer holds the ticket or the refusal
   * at once, or neither while the request waits in its group's queue (until the scheduler runs).
   */
  public Answer admit(String user, RequestKind kind, String fingerprint, long bytesIn) {
    Request r = new Request(new TenantIdentity("l1", user, null, null), kind, "CMD", fingerprint, bytesIn,
        clock.nanoTime(), true);
    Answer answer = new Answer();
    gateway.admit(r, gateway.classify(r.tenant()), ORIGIN, RuWeights.DEFAULT, scheduler, answer);
    return answer;
  }

  /** One request that reaches the primary, takes {@code latencyMs} and returns {@code bytesOut}. */
  public Ticket complete(String user, String fingerprint, long latencyMs, long bytesOut,
      io.mproxy.core.request.Outcome outcome) {
    Ticket t = admit(user, RequestKind.READ, fingerprint, 16).ticket;
    if (t == null) {
      throw new AssertionError("request of " + user + " was refused");
    }
    t.dispatched(primary());
    clock.advanceMillis(latencyMs);
    t.complete(outcome, bytesOut);
    return t;
  }

  public void ready(boolean r) {
    ready = r;
  }

  public void generation(long g) {
    generation = g;
  }

  public void listeners(List<ListenerView> l) {
    listeners = List.copyOf(l);
  }

  public void members(List<String> m) {
    members = List.copyOf(m);
  }

  /** Replaces every cluster (as a reload that rebuilds clusters would). */
  public void clusters(List<Cluster> c) {
    clusters.clear();
    clusters.addAll(c);
  }

  @Override
  public String version() {
    return VERSION;
  }

  @Override
  public long generation() {
    return generation;
  }

  @Override
  public long startedNanos() {
    return startedNanos;
  }

  @Override
  public List<ListenerView> listeners() {
    return listeners;
  }

  @Override
  public Collection<Cluster> clusters() {
    return List.copyOf(clusters);
  }

  @Override
  public Gateway gateway() {
    return gateway;
  }

  @Override
  public List<String> members() {
    return members;
  }

  @Override
  public String transport() {
    return "nio";
  }

  @Override
  public boolean ready() {
    return ready;
  }

  /** What admission answered. */
  public static final class Answer implements AdmissionCallback {
    public volatile Ticket ticket;
    public volatile Refusal refusal;

    @Override
    public void admitted(Ticket t) {
      ticket = t;
    }

    @Override
    public void refused(Refusal r) {
      refusal = r;
    }
  }

  private static final class IdleConnector implements BackendConnector {
    @Override
    public void initChannel(Channel channel) {
      throw new UnsupportedOperationException("test pools never connect");
    }

    @Override
    public void handshake(PooledConnection connection, Promise<Void> ready) {
      throw new UnsupportedOperationException("test pools never connect");
    }

    @Override
    public void probe(PooledConnection connection, Promise<Void> result) {
      throw new UnsupportedOperationException("test pools never connect");
    }
  }

  private static final class SeededRandom implements RandomSource {
    private final Random random;

    SeededRandom(long seed) {
      random = new Random(seed);
    }

    @Override
    public int nextInt(int bound) {
      return random.nextInt(bound);
    }

    @Override
    public double nextDouble() {
      return random.nextDouble();
    }
  }
}

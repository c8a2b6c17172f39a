package io.mproxy.core.cluster;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.balance.BackendSelector;
import io.mproxy.core.balance.P2cSelector;
import io.mproxy.core.balance.ShuffleShard;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ShuffleShardConfig;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.RandomSource;
import io.mproxy.core.time.Scheduler;
import io.netty.bootstrap.Bootstrap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The live form of one configured cluster: its backends with health and load, the balancer,
 * and one connection pool per backend (and per connection variant the protocol asks for).
 * Pool upkeep and health probes run on the injected scheduler, never on a request.
 */
public final class Cluster implements AutoCloseable {

  /** The variant of the pools that are created eagerly and kept at {@code min_idle}. */
  public static final String DEFAULT_VARIANT = "";

  private static final long MAINTAIN_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final String name;
  private final List<Backend> backends;
  private final List<Backend> primaries;
  private final BackendConnector connector;
  private final Bootstrap bootstrap;
  private final Clock clock;
  private final Scheduler scheduler;
  private final RandomSource random;
  private final Map<Backend, Map<String, BackendPool>> pools = new ConcurrentHashMap<>();
  private final List<Scheduler.Cancellable> timers = new ArrayList<>();
  private volatile ClusterConfig config;
  private volatile BackendSelector selector;

  public Cluster(ClusterConfig config, BackendConnector connector, Bootstrap bootstrap, Clock clock,
      Scheduler scheduler, RandomSource random) {
    this.name = config.name();
    this.config = config;
    this.connector = connector;
    this.bootstrap = bootstrap;
    this.clock = clock;
    this.scheduler = scheduler;
    this.random = random;
    List<Backend> all = new ArrayList<>();
    List<Backend> prim = new ArrayList<>();
    for (BackendConfig bc : config.backends()) {
      Backend b = new Backend(bc, clock);
      all.add(b);
      if (bc.role() == BackendConfig.Role.PRIMARY) {
        prim.add(b);
      }
    }
    this.backends = List.copyOf(all);
    this.primaries = prim.isEmpty() ? this.backends : List.copyOf(prim);
    this.selector = new P2cSelector(config.balancer().score(), random);
  }

  /** Opens the {@code min_idle} connections and starts pool upkeep and health probes. */
  public void start() {
    for (Backend b : backends) {
      pool(b, DEFAULT_VARIANT).maintain();
    }
    synchronized (timers) {
      timers.add(scheduler.scheduleAtFixedRate(this::maintain, MAINTAIN_PERIOD_NANOS));
      timers.add(scheduler.scheduleAtFixedRate(this::probe,
          TimeUnit.MILLISECONDS.toNanos(config.health().intervalMs())));
    }
  }

  public String name() {
    return name;
  }

  public ClusterConfig config() {
    return config;
  }

  public RuWeights weights() {
    return config.ru();
  }

  /** The protocol's connector for this cluster (protocol sessions may keep state there). */
  public BackendConnector connector() {
    return connector;
  }

  public List<Backend> backends() {
    return backends;
  }

  /**
   * Whether {@code next} can be applied to this cluster in place (same backends, credentials and
   * protocol options), or the cluster must be rebuilt.
   */
  public boolean canReconfigure(ClusterConfig next) {
    return next.protocol().equals(config.protocol())
        && next.backends().equals(config.backends())
        && Objects.equals(next.credentials(), config.credentials())
        && next.options().equals(config.options())
        && next.health().intervalMs() == config.health().intervalMs();
  }

  /** Applies weights, balancer and pool limits in place (see {@link #canReconfigure}). */
  public void reconfigure(ClusterConfig next) {
    this.config = next;
    this.selector = new P2cSelector(next.balancer().score(), random);
    for (Map<String, BackendPool> byVariant : pools.values()) {
      for (Map.Entry<String, BackendPool> e : byVariant.entrySet()) {
        e.getValue().reconfigure(poolConfigFor(e.getKey()), next.health());
      }
    }
  }

  /**
   * Picks the backend for a request: power of two choices among the primaries (replica routing
   * comes with hints); null when no backend can be tried.
   */
  public Backend select(Request request) {
    ShuffleShardConfig shuffle = config.balancer().shuffleShard();
    if (!shuffle.enabled() || shuffle.handSize() >= primaries.size() || request == null
        || request.tenant() == null) {
      return selector.select(primaries);
    }
    return selectInHand(selector, primaries, request.tenant(), shuffle);
  }

  /**
   * P2C within the tenant's shuffle-shard hand of {@code all}; when no backend of the hand is
   * healthy, among all of them (a tenant is never failed for its hand alone).
   */
  public static Backend selectInHand(BackendSelector selector, List<Backend> all, TenantIdentity tenant,
      ShuffleShardConfig shuffle) {
    int[] idx = ShuffleShard.hand(ShuffleShard.key(tenant), shuffle.seed(), all.size(), shuffle.handSize());
    List<Backend> hand = new ArrayList<>(idx.length);
    boolean anyHealthy = false;
    for (int i : idx) {
      Backend b = all.get(i);
      hand.add(b);
      anyHealthy |= b.healthy();
    }
    return selector.select(anyHealthy ? hand : all);
  }

  /** The pool of one backend for one connection variant, created on first use. */
  public BackendPool pool(Backend backend, String variant) {
    return pools.computeIfAbsent(backend, b -> new ConcurrentHashMap<>())
        .computeIfAbsent(variant, v -> new BackendPool(backend, v, poolConfigFor(v), config.health(),
            bootstrap, connector, clock));
  }

  /** Every pool, for metrics and status. */
  public Map<Backend, Map<String, BackendPool>> pools() {
    return pools;
  }

  private io.mproxy.core.config.PoolConfig poolConfigFor(String variant) {
    io.mproxy.core.config.PoolConfig p = config.pool();
    if (DEFAULT_VARIANT.equals(variant)) {
      return p;
    }
    return new io.mproxy.core.config.PoolConfig(p.mode(), 0, p.maxSize(), p.maxOpensPerSec(),
        p.idleTimeoutMs(), p.connectTimeoutMs(), p.acquireTimeoutMs());
  }

  private void maintain() {
    for (Map<String, BackendPool> byVariant : pools.values()) {
      for (BackendPool p : byVariant.values()) {
        p.maintain();
      }
    }
  }

  private void probe() {
    for (Backend b : backends) {
      pool(b, DEFAULT_VARIANT).probe();
    }
  }

  /** Stops upkeep and closes every pool. */
  @Override
  public void close() {
    synchronized (timers) {
      timers.forEach(Scheduler.Cancellable::cancel);
      timers.clear();
    }
    for (Map<String, BackendPool> byVariant : pools.values()) {
      byVariant.values().forEach(BackendPool::close);
    }
  }
}

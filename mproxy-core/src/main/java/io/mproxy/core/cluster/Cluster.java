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
import io.mproxy.core.pool.ConnectionBudget;
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
  /** Per backend, shared by its pools: {@code pool.max_size} caps the backend, not each variant. */
  private final Map<Backend, ConnectionBudget> budgets = new ConcurrentHashMap<>();
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
      b.circuit(config.circuit());
      b.trackRuRate(scoresByRuRate(config));
      all.add(b);
      if (bc.role() == BackendConfig.Role.PRIMARY) {
        prim.add(b);
      }
    }
    this.backends = List.copyOf(all);
    this.primaries = prim.isEmpty() ? this.backends : List.copyOf(prim);
    this.selector = new P2cSelector(config.balancer().score(), random);
  }

  private static boolean scoresByRuRate(ClusterConfig c) {
    return c.balancer().score() == io.mproxy.core.config.BalancerConfig.Score.RU_RATE;
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
    for (Backend b : backends) {
      b.circuit(next.circuit());
      b.trackRuRate(scoresByRuRate(next));
    }
    budgets.values().forEach(b -> b.limit(next.pool().maxSize()));
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
    return selectFor(request == null ? null : request.tenant());
  }

  /** P2C for {@code tenant} (its shuffle-shard hand when configured); {@code null}: among all. */
  public Backend selectFor(TenantIdentity tenant) {
    ShuffleShardConfig shuffle = config.balancer().shuffleShard();
    if (!shuffle.enabled() || shuffle.handSize() >= primaries.size() || tenant == null) {
      return selector.select(primaries);
    }
    return selectInHand(selector, primaries, tenant, shuffle);
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

  /**
   * Whether a request found no backend because circuits are open (enforce mode): no primary
   * could be picked, and at least one that is up or tryable was refused only by its circuit.
   * Sessions then refuse with {@code circuit_open} rather than "no backend".
   */
  public boolean circuitsOpen() {
    boolean refusedByCircuit = false;
    for (Backend b : primaries) {
      boolean allows = b.circuitAllows();
      if (allows && b.tryable()) {
        return false;
      }
      refusedByCircuit |= !allows;
    }
    return refusedByCircuit;
  }

  /** Milliseconds until the first open circuit among the primaries turns half-open (retry-after). */
  public long circuitRetryAfterMs() {
    long min = Long.MAX_VALUE;
    for (Backend b : primaries) {
      io.mproxy.core.balance.CircuitBreaker c = b.circuit();
      if (c != null && c.remainingOpenNanos() > 0) {
        min = Math.min(min, c.remainingOpenNanos());
      }
    }
    return min == Long.MAX_VALUE ? 1_000 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(min));
  }

  /**
   * The pool of one backend for one connection variant, created on first use. The pools of a
   * backend share one {@link ConnectionBudget} of {@code pool.max_size} connections.
   */
  public BackendPool pool(Backend backend, String variant) {
    // looked up on every request: plain gets first, so the common case allocates no lambda
    Map<String, BackendPool> byVariant = pools.get(backend);
    if (byVariant != null) {
      BackendPool pool = byVariant.get(variant);
      if (pool != null) {
        return pool;
      }
    }
    ConnectionBudget budget = budget(backend);
    return pools.computeIfAbsent(backend, b -> new ConcurrentHashMap<>())
        .computeIfAbsent(variant, v -> new BackendPool(backend, v, poolConfigFor(v), config.health(),
            bootstrap, connector, clock, budget));
  }

  /** The connection budget of one backend (shared by its pools). */
  public ConnectionBudget budget(Backend backend) {
    return budgets.computeIfAbsent(backend, b -> new ConnectionBudget(config.pool().maxSize()));
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
    pools.forEach(this::rebalance);
  }

  /**
   * A backend whose budget is spent while one of its pools has waiters: close an idle connection
   * of a pool without waiters, so the slot goes to the waiters (one per upkeep round).
   */
  private void rebalance(Backend backend, Map<String, BackendPool> byVariant) {
    ConnectionBudget budget = budget(backend);
    if (!budget.starved()) {
      return;
    }
    boolean anyWaiting = false;
    for (BackendPool p : byVariant.values()) {
      anyWaiting |= p.waiting() > 0;
    }
    if (!anyWaiting) {
      budget.clearStarved();
      return;
    }
    if (!budget.full()) {
      return;
    }
    for (BackendPool p : byVariant.values()) {
      if (p.waiting() == 0 && p.closeOneIdle()) {
        return;
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

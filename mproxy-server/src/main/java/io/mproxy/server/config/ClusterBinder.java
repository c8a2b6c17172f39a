package io.mproxy.server.config;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.CircuitConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ShuffleShardConfig;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Binds the {@code clusters:} mapping, one named cluster at a time. */
final class ClusterBinder {

  static final List<String> KEYS =
      List.of("protocol", "credentials", "backends", "balancer", "pool", "ru", "health", "circuit",
          "shuffle_shard");
  static final List<String> CIRCUIT_KEYS = List.of("error_rate", "min_requests", "latency_ms", "window_ms",
      "open_ms", "half_open_probes", "mode");
  static final List<String> SHUFFLE_SHARD_KEYS = List.of("hand_size", "seed");
  static final List<String> CREDENTIAL_KEYS = List.of("user", "password");
  static final List<String> BACKEND_KEYS = List.of("address", "role");
  static final List<String> BALANCER_KEYS = List.of("strategy", "score");
  static final List<String> POOL_KEYS = List.of("mode", "min_idle", "max_size",
      "max_opens_per_sec", "idle_timeout_ms", "connect_timeout_ms", "acquire_timeout_ms");
  static final List<String> RU_KEYS = List.of("w_read", "w_write", "w_latency");
  static final List<String> HEALTH_KEYS =
      List.of("interval_ms", "timeout_ms", "retry_base_ms", "retry_max_ms");
  static final List<String> STRATEGIES = List.of("p2c");
  static final Range BACKEND_PORTS = Range.between(1, 65535);

  /** A bound cluster; {@code protocol} is null when it named no known adapter. */
  record Bound(ClusterConfig config, String protocol) {
  }

  private final Adapters adapters;
  private final Problems problems;

  ClusterBinder(Adapters adapters, Problems problems) {
    this.adapters = adapters;
    this.problems = problems;
  }

  Map<String, Bound> bindAll(MapReader top) {
    Map<String, Bound> clusters = new LinkedHashMap<>();
    top.mapping("clusters").ifPresent(map -> map.entries().values().forEach(e ->
        ConfigBinder.namedSection(e, problems, KEYS)
            .ifPresent(r -> clusters.put(e.key(), bind(e.key(), r)))));
    return clusters;
  }

  private Bound bind(String name, MapReader r) {
    Optional<ProtocolAdapter> adapter = adapters.protocolOf(r);
    Credentials credentials = r.section("credentials", CREDENTIAL_KEYS)
        .map(this::credentials).orElse(Credentials.NONE);
    List<BackendConfig> backends = backends(r);
    BalancerConfig balancer = r.section("balancer", BALANCER_KEYS)
        .map(this::balancer).orElse(BalancerConfig.DEFAULT);
    Optional<ShuffleShardConfig> shuffle = r.section("shuffle_shard", SHUFFLE_SHARD_KEYS).map(this::shuffleShard);
    if (shuffle.isPresent()) {
      balancer = new BalancerConfig(balancer.strategy(), balancer.score(), shuffle.get());
    }
    PoolConfig pool = r.section("pool", POOL_KEYS).map(this::pool).orElse(PoolConfig.DEFAULT);
    RuWeights ru = r.section("ru", RU_KEYS).map(this::ru).orElse(RuWeights.DEFAULT);
    HealthConfig health = r.section("health", HEALTH_KEYS).map(this::health).orElse(HealthConfig.DEFAULT);
    CircuitConfig circuit = r.section("circuit", CIRCUIT_KEYS).map(ClusterBinder::circuit).orElse(null);
    Map<String, Object> options =
        adapter.map(a -> r.options(a.clusterOptionKeys())).orElse(Map.of());
    adapter.ifPresent(a -> r.rejectUnknownKeys(a.clusterOptionKeys()));

    String protocol = adapter.map(ProtocolAdapter::protocol).orElse(null);
    ClusterConfig config = new ClusterConfig(name, protocol == null ? "" : protocol, credentials,
        backends, balancer, pool, ru, health, options, circuit);
    adapter.ifPresent(a -> Adapters.validate(a, r, () -> a.validate(config)));
    return new Bound(config, protocol);
  }

  private Credentials credentials(MapReader c) {
    Credentials credentials = new Credentials(c.string("user").orElse(null),
        c.string("password").orElse(null));
    c.rejectUnknownKeys();
    return credentials;
  }

  private List<BackendConfig> backends(MapReader r) {
    List<BackendConfig> backends = new ArrayList<>();
    if (!r.has("backends")) {
      r.reportMissing("backends", "at least one backend");
      return backends;
    }
    Optional<ListNode> list = r.list("backends");
    if (list.isEmpty()) {
      return backends;
    }
    if (list.get().items().isEmpty()) {
      r.report(list.get().mark(), "backends: empty (expected: at least one backend)");
    }
    Map<HostPort, Mark> seen = new HashMap<>();
    for (YamlNode item : list.get().items()) {
      if (!(item instanceof MapNode map)) {
        problems.report(item.mark(), "backends: " + item.describe()
            + " (expected: a mapping like { address: host:port, role: primary })");
        continue;
      }
      MapReader b = new MapReader(map, problems, BACKEND_KEYS);
      Optional<HostPort> address = b.requiredHostPort("address", BACKEND_PORTS);
      BackendConfig.Role role = b.choice("role", BackendConfig.Role.class, BackendConfig.Role.PRIMARY);
      b.rejectUnknownKeys();
      if (address.isEmpty()) {
        continue;
      }
      Mark first = seen.putIfAbsent(address.get(), b.valueMark("address"));
      if (first != null) {
        b.report(b.valueMark("address"), "address: " + address.get()
            + " is listed twice (first at line " + first.line() + ")");
      }
      backends.add(new BackendConfig(address.get(), role));
    }
    return backends;
  }

  private BalancerConfig balancer(MapReader b) {
    BalancerConfig d = BalancerConfig.DEFAULT;
    BalancerConfig balancer = new BalancerConfig(b.oneOf("strategy", STRATEGIES).orElse(d.strategy()),
        b.choice("score", BalancerConfig.Score.class, d.score()));
    b.rejectUnknownKeys();
    return balancer;
  }

  private ShuffleShardConfig shuffleShard(MapReader s) {
    int handSize = s.int32("hand_size", 0, Range.atLeast(0));
    long seed = s.integer("seed", 0, Range.atLeast(0));
    s.rejectUnknownKeys();
    return new ShuffleShardConfig(handSize, seed);
  }

  private PoolConfig pool(MapReader p) {
    PoolConfig d = PoolConfig.DEFAULT;
    String mode = p.string("mode", d.mode());
    Optional<Integer> minIdle = p.int32("min_idle", Range.atLeast(0));
    Optional<Integer> maxSize = p.int32("max_size", Range.atLeast(1));
    int maxOpens = p.int32("max_opens_per_sec", d.maxOpensPerSec(), Range.atLeast(1));
    long idleTimeout = p.integer("idle_timeout_ms", d.idleTimeoutMs(), Range.greaterThan(0));
    long connectTimeout = p.integer("connect_timeout_ms", d.connectTimeoutMs(), Range.greaterThan(0));
    long acquireTimeout = p.integer("acquire_timeout_ms", d.acquireTimeoutMs(), Range.atLeast(0));
    p.rejectUnknownKeys();
    boolean sizesValid = (minIdle.isPresent() || !p.has("min_idle"))
        && (maxSize.isPresent() || !p.has("max_size"));
    int min = minIdle.orElse(d.minIdle());
    int max = maxSize.orElse(d.maxSize());
    if (sizesValid && min > max) {
      p.report(p.valueMark(p.has("min_idle") ? "min_idle" : "max_size"),
          "min_idle: " + min + " (expected: <= max_size " + max + ")");
    }
    return new PoolConfig(mode, min, max, maxOpens, idleTimeout, connectTimeout, acquireTimeout);
  }

  private RuWeights ru(MapReader w) {
    RuWeights d = RuWeights.DEFAULT;
    RuWeights ru = new RuWeights(w.number("w_read", d.wRead(), Range.atLeast(0)),
        w.number("w_write", d.wWrite(), Range.atLeast(0)),
        w.number("w_latency", d.wLatency(), Range.atLeast(0)));
    w.rejectUnknownKeys();
    return ru;
  }

  /** {@code circuit:}: every key has a default, so {@code circuit: {}} turns the breaker on. */
  static CircuitConfig circuit(MapReader c) {
    double errorRate = c.number("error_rate", CircuitConfig.DEFAULT_ERROR_RATE, new Range(0, true, 1));
    int minRequests = c.int32("min_requests", CircuitConfig.DEFAULT_MIN_REQUESTS, Range.atLeast(1));
    long latencyMs = c.integer("latency_ms", CircuitConfig.DEFAULT_LATENCY_MS, Range.atLeast(0));
    long windowMs = c.integer("window_ms", CircuitConfig.DEFAULT_WINDOW_MS, Range.atLeast(10));
    long openMs = c.integer("open_ms", CircuitConfig.DEFAULT_OPEN_MS, Range.greaterThan(0));
    int probes = c.int32("half_open_probes", CircuitConfig.DEFAULT_HALF_OPEN_PROBES, Range.atLeast(1));
    CircuitConfig.Mode mode = c.choice("mode", CircuitConfig.Mode.class, CircuitConfig.Mode.ENFORCE);
    c.rejectUnknownKeys();
    return new CircuitConfig(errorRate, minRequests, latencyMs, windowMs, openMs, probes, mode);
  }

  private HealthConfig health(MapReader h) {
    HealthConfig d = HealthConfig.DEFAULT;
    long interval = h.integer("interval_ms", d.intervalMs(), Range.greaterThan(0));
    long timeout = h.integer("timeout_ms", d.timeoutMs(), Range.greaterThan(0));
    Optional<Long> retryBase = h.integer("retry_base_ms", Range.greaterThan(0));
    Optional<Long> retryMax = h.integer("retry_max_ms", Range.greaterThan(0));
    h.rejectUnknownKeys();
    long base = retryBase.orElse(d.retryBaseMs());
    long max = retryMax.orElse(d.retryMaxMs());
    boolean bothValid = (retryBase.isPresent() || !h.has("retry_base_ms"))
        && (retryMax.isPresent() || !h.has("retry_max_ms"));
    if (bothValid && max < base) {
      h.report(h.valueMark(h.has("retry_max_ms") ? "retry_max_ms" : "retry_base_ms"),
          "retry_max_ms: " + max + " (expected: >= retry_base_ms " + base + ")");
    }
    return new HealthConfig(interval, timeout, base, max);
  }
}

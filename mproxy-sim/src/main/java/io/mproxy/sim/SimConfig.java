package io.mproxy.sim;

import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.fault.FaultPoint;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything one simulation run is built from. Immutable; a scenario is a function from a seed to
 * one of these. Times are virtual milliseconds from the start of the run.
 *
 * @param durationMs how long clients start new requests
 * @param drainMs how long the run continues afterwards so every request in flight gets its answer
 * @param sampleMs the resolution of the time series (goodput, fleet RU rate)
 */
public record SimConfig(
    String name,
    long seed,
    long durationMs,
    long drainMs,
    long sampleMs,
    int nodes,
    List<BackendSpec> backends,
    List<GroupSpec> groups,
    List<TenantSpec> tenants,
    ProxySpec proxy,
    GossipSpec gossip,
    Map<FaultPoint, Double> faults) {

  public SimConfig {
    backends = List.copyOf(backends);
    groups = List.copyOf(groups);
    tenants = List.copyOf(tenants);
    faults = Map.copyOf(faults);
    if (nodes < 1 || backends.isEmpty() || tenants.isEmpty()) {
      throw new IllegalArgumentException(name + ": needs at least one node, backend and tenant");
    }
    Set<String> groupNames = new HashSet<>();
    for (GroupSpec g : groups) {
      groupNames.add(g.config().name());
    }
    Set<String> placed = new HashSet<>();
    for (TenantSpec t : tenants) {
      if (!groupNames.contains(t.group())) {
        throw new IllegalArgumentException(name + ": tenant " + t.name() + " names unknown group " + t.group());
      }
      if (t.node() < 0 || t.node() >= nodes) {
        throw new IllegalArgumentException(name + ": tenant " + t.name() + " on node " + t.node());
      }
      // RU is read from the production group counters, so a (node, group) pair has one tenant
      if (!placed.add(t.node() + "/" + t.group())) {
        throw new IllegalArgumentException(name + ": two tenants share group " + t.group()
            + " on node " + t.node() + " (RU could not be told apart)");
      }
    }
  }

  public long endMs() {
    return durationMs + drainMs;
  }

  /** A resource group; {@code fleetShared} groups have a fleet-wide budget split over gossip. */
  public record GroupSpec(ResourceGroupConfig config, boolean fleetShared) {
  }

  /** A window of virtual time with a factor (latency spikes) or none (crashes, hangs, partitions). */
  public record Window(long startMs, long endMs, double factor) {

    public boolean contains(long ms) {
      return ms >= startMs && ms < endMs;
    }
  }

  /**
   * A simulated database server.
   *
   * @param capacity requests it works on at once; more wait in its own FIFO
   * @param medianServiceMs median service time (log-normal with {@code sigma})
   * @param spikes latency multiplied by {@code factor} for requests starting inside
   * @param crashes down (connections reset, opens refused) inside, restarts at each end
   * @param hangs slow failure inside: accepts requests and connections, never answers
   */
  public record BackendSpec(String name, int capacity, double medianServiceMs, double sigma,
      long connectMs, List<Window> spikes, List<Window> crashes, List<Window> hangs) {

    public BackendSpec {
      spikes = List.copyOf(spikes);
      crashes = List.copyOf(crashes);
      hangs = List.copyOf(hangs);
    }

    public static BackendSpec steady(String name, int capacity, double medianServiceMs) {
      return new BackendSpec(name, capacity, medianServiceMs, 0.5, 2, List.of(), List.of(), List.of());
    }

    public BackendSpec withSpikes(List<Window> w) {
      return new BackendSpec(name, capacity, medianServiceMs, sigma, connectMs, w, crashes, hangs);
    }

    public BackendSpec withCrashes(List<Window> w) {
      return new BackendSpec(name, capacity, medianServiceMs, sigma, connectMs, spikes, w, hangs);
    }

    public BackendSpec withHangs(List<Window> w) {
      return new BackendSpec(name, capacity, medianServiceMs, sigma, connectMs, spikes, crashes, w);
    }
  }

  /** How a tenant's requests arrive. */
  public sealed interface Arrival permits Open, Closed {
  }

  /** Open loop: a Poisson process at {@code perSec}, whatever the answers. */
  public record Open(double perSec) implements Arrival {
  }

  /** Closed loop: {@code users} each send, wait for the final answer, think, send again. */
  public record Closed(int users, double thinkMs) implements Arrival {
  }

  /**
   * What a client does after a failed attempt.
   *
   * @param maxAttempts 1 = never retry
   * @param baseMs first back-off (0 = retry at once)
   * @param capMs longest back-off; the delay is full-jitter {@code U(0, min(cap, base·2^n))}
   * @param honourRetryAfter wait at least the refusal's retry_after_ms
   */
  public record RetryPolicy(int maxAttempts, long baseMs, long capMs, boolean honourRetryAfter) {

    public static final RetryPolicy NONE = new RetryPolicy(1, 0, 0, false);

    public static RetryPolicy immediate(int maxAttempts) {
      return new RetryPolicy(maxAttempts, 0, 0, false);
    }

    public static RetryPolicy backoff(int maxAttempts, long baseMs, long capMs) {
      return new RetryPolicy(maxAttempts, baseMs, capMs, true);
    }
  }

  /**
   * One tenant: a client population on one proxy node, classified into {@code group}.
   *
   * @param writeFraction share of requests that are writes
   * @param replyBytes bytes a read returns (what it is charged for)
   * @param writeBytes bytes a write sends
   * @param costFactor backend service time relative to the backend's median (heavy queries > 1)
   * @param clientTimeoutMs the client abandons an attempt after this (0 = never); the proxy still answers it
   */
  public record TenantSpec(String name, int node, String group, Priority priority, Arrival arrival,
      double writeFraction, long replyBytes, long writeBytes, double costFactor, RetryPolicy retry,
      long clientTimeoutMs, long startMs, long stopMs) {

    public static TenantSpec open(String name, int node, String group, double perSec) {
      return new TenantSpec(name, node, group, Priority.NORMAL, new Open(perSec), 0.1, 512, 1024, 1.0,
          RetryPolicy.NONE, 0, 0, Long.MAX_VALUE);
    }

    /** With this share of writes (the rest are reads); each kind has its own fingerprint. */
    public TenantSpec withWriteFraction(double f) {
      return new TenantSpec(name, node, group, priority, arrival, f, replyBytes, writeBytes, costFactor,
          retry, clientTimeoutMs, startMs, stopMs);
    }

    public TenantSpec withPriority(Priority p) {
      return new TenantSpec(name, node, group, p, arrival, writeFraction, replyBytes, writeBytes, costFactor,
          retry, clientTimeoutMs, startMs, stopMs);
    }

    public TenantSpec withArrival(Arrival a) {
      return new TenantSpec(name, node, group, priority, a, writeFraction, replyBytes, writeBytes, costFactor,
          retry, clientTimeoutMs, startMs, stopMs);
    }

    public TenantSpec withRetry(RetryPolicy r, long timeoutMs) {
      return new TenantSpec(name, node, group, priority, arrival, writeFraction, replyBytes, writeBytes,
          costFactor, r, timeoutMs, startMs, stopMs);
    }

    public TenantSpec withCost(double factor) {
      return new TenantSpec(name, node, group, priority, arrival, writeFraction, replyBytes, writeBytes, factor,
          retry, clientTimeoutMs, startMs, stopMs);
    }

    public TenantSpec during(long fromMs, long toMs) {
      return new TenantSpec(name, node, group, priority, arrival, writeFraction, replyBytes, writeBytes,
          costFactor, retry, clientTimeoutMs, fromMs, toMs);
    }
  }

  /**
   * Proxy settings every node shares: the production config records plus what the sim models.
   *
   * @param queryTimeoutMs the proxy ends a request the backend has not answered by then
   * @param maxWaiters bound of each pool's wait queue
   */
  public record ProxySpec(PoolConfig pool, HealthConfig health, BalancerConfig.Score score, RuWeights weights,
      long ruTickMs, long queryTimeoutMs, int maxWaiters, CodelConfig codel,
      io.mproxy.core.config.RunawayConfig runaway) {

    public ProxySpec {
      runaway = runaway == null ? io.mproxy.core.config.RunawayConfig.NONE : runaway;
    }

    public ProxySpec(PoolConfig pool, HealthConfig health, BalancerConfig.Score score, RuWeights weights,
        long ruTickMs, long queryTimeoutMs, int maxWaiters, CodelConfig codel) {
      this(pool, health, score, weights, ruTickMs, queryTimeoutMs, maxWaiters, codel, null);
    }

    public ProxySpec(PoolConfig pool, HealthConfig health, BalancerConfig.Score score, RuWeights weights,
        long ruTickMs, long queryTimeoutMs, int maxWaiters) {
      this(pool, health, score, weights, ruTickMs, queryTimeoutMs, maxWaiters, null, null);
    }

    public static final ProxySpec DEFAULT = new ProxySpec(
        new PoolConfig("transaction", 2, 16, 50, 60_000, 1_000, 1_000),
        new HealthConfig(500, 250, 250, 2_000),
        BalancerConfig.Score.LEAST_INFLIGHT, RuWeights.DEFAULT, 100, 2_000, 1_024);

    public ProxySpec withPool(PoolConfig p) {
      return new ProxySpec(p, health, score, weights, ruTickMs, queryTimeoutMs, maxWaiters, codel, runaway);
    }

    public ProxySpec withQueryTimeout(long ms) {
      return new ProxySpec(pool, health, score, weights, ruTickMs, ms, maxWaiters, codel, runaway);
    }

    public ProxySpec withScore(BalancerConfig.Score s) {
      return new ProxySpec(pool, health, s, weights, ruTickMs, queryTimeoutMs, maxWaiters, codel, runaway);
    }

    /** With the gateway-wide CoDel (top-level {@code codel:}); null for none. */
    public ProxySpec withCodel(CodelConfig c) {
      return new ProxySpec(pool, health, score, weights, ruTickMs, queryTimeoutMs, maxWaiters, c, runaway);
    }

    /** With runaway-query rules (top-level {@code runaway:}). */
    public ProxySpec withRunaway(io.mproxy.core.config.RunawayConfig r) {
      return new ProxySpec(pool, health, score, weights, ruTickMs, queryTimeoutMs, maxWaiters, codel, r);
    }
  }

  /**
   * The gossip network between proxy nodes (used when there are several).
   *
   * @param delayMs mean one-way delay (exponential, plus 0.2 ms)
   * @param loss probability a message is lost
   * @param partitions inside each window, nodes in {@code sideA} and the others cannot talk
   */
  public record GossipSpec(long intervalMs, long staleAfterMs, int expectedNodes, double delayMs, double loss,
      List<Partition> partitions) {

    public GossipSpec {
      partitions = List.copyOf(partitions);
    }

    public static GossipSpec lan(int expectedNodes) {
      return new GossipSpec(200, 1_000, expectedNodes, 1.0, 0.0, List.of());
    }

    public GossipSpec withPartitions(List<Partition> p) {
      return new GossipSpec(intervalMs, staleAfterMs, expectedNodes, delayMs, loss, p);
    }

    public GossipSpec withLoss(double l, double delay) {
      return new GossipSpec(intervalMs, staleAfterMs, expectedNodes, delay, l, partitions);
    }
  }

  /** A gossip partition: inside the window, {@code sideA} cannot reach the other nodes. */
  public record Partition(long startMs, long endMs, Set<Integer> sideA) {

    public Partition {
      sideA = Set.copyOf(sideA);
    }

    public boolean cuts(long ms, int from, int to) {
      return ms >= startMs && ms < endMs && sideA.contains(from) != sideA.contains(to);
    }
  }
}

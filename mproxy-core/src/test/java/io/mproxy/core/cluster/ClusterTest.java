package io.mproxy.core.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Routing and reload rules of a cluster; no sockets (pools are created lazily and never used). */
class ClusterTest {

  private static final BackendConfig P1 = new BackendConfig(new HostPort("10.0.0.1", 1), BackendConfig.Role.PRIMARY);
  private static final BackendConfig P2 = new BackendConfig(new HostPort("10.0.0.2", 1), BackendConfig.Role.PRIMARY);
  private static final BackendConfig R1 = new BackendConfig(new HostPort("10.0.0.3", 1), BackendConfig.Role.REPLICA);

  private final ManualClock clock = new ManualClock();

  @Test
  void selectsOnlyAmongPrimaries() {
    Cluster cluster = cluster(config(List.of(P1, R1, P2)));
    Backend replica = cluster.backends().get(1);
    cluster.backends().get(0).started();
    cluster.backends().get(2).started();
    Set<Backend> picked = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      picked.add(cluster.select(null));
    }
    assertFalse(picked.contains(replica), "the idle replica is not a write target");
    assertEquals(Set.of(cluster.backends().get(0), cluster.backends().get(2)), picked);
  }

  @Test
  void withoutPrimariesEveryBackendIsEligible() {
    BackendConfig r2 = new BackendConfig(new HostPort("10.0.0.4", 1), BackendConfig.Role.REPLICA);
    Cluster cluster = cluster(config(List.of(R1, r2)));
    Set<Backend> picked = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      picked.add(cluster.select(null));
    }
    assertEquals(2, picked.size());
  }

  @Test
  void poolsAreCreatedOncePerBackendAndVariant() {
    Cluster cluster = cluster(config(List.of(P1)));
    Backend b = cluster.backends().get(0);
    assertSame(cluster.pool(b, "resp3"), cluster.pool(b, "resp3"));
    assertTrue(cluster.pool(b, "resp2") != cluster.pool(b, "resp3"));
    cluster.close();
  }

  @Test
  void limitsWeightsAndBalancerReconfigureInPlace() {
    ClusterConfig base = config(List.of(P1, P2));
    Cluster cluster = cluster(base);
    ClusterConfig next = new ClusterConfig(base.name(), base.protocol(), base.credentials(), base.backends(),
        new BalancerConfig("p2c", BalancerConfig.Score.PEAK_EWMA),
        new PoolConfig("x", 0, 99, 7, 1, 1, 1), new RuWeights(1, 2, 3),
        new HealthConfig(base.health().intervalMs(), 5, 6, 7), base.options());
    assertTrue(cluster.canReconfigure(next));
    cluster.reconfigure(next);
    assertEquals(new RuWeights(1, 2, 3), cluster.weights());
  }

  @Test
  void theRuRateAverageIsFedOnlyWhileTheBalancerScoresByIt() {
    ClusterConfig base = config(List.of(P1, P2));
    Cluster cluster = cluster(base);
    Backend b = cluster.backends().get(0);
    b.started();
    b.finished(1_000_000, 5.0, false, clock.nanoTime());
    assertEquals(0, b.score(BalancerConfig.Score.RU_RATE), "least_inflight: no RU-rate average is kept");

    cluster.reconfigure(withScore(base, BalancerConfig.Score.RU_RATE));
    b.started();
    b.finished(1_000_000, 5.0, false, clock.nanoTime());
    assertEquals(5_000, b.score(BalancerConfig.Score.RU_RATE), 1e-9, "ru_rate: the average follows the requests");

    cluster.reconfigure(withScore(base, BalancerConfig.Score.PEAK_EWMA));
    b.started();
    b.finished(1_000_000, 50.0, false, clock.nanoTime());
    assertEquals(5_000, b.score(BalancerConfig.Score.RU_RATE), 1e-9, "peak_ewma: the RU-rate average is left as it was");
    assertEquals(1_000_000, b.latencyEwmaNanos(), 1e-9, "the latency average is always fed");
  }

  private static ClusterConfig withScore(ClusterConfig b, BalancerConfig.Score score) {
    return new ClusterConfig(b.name(), b.protocol(), b.credentials(), b.backends(), new BalancerConfig("p2c", score),
        b.pool(), b.ru(), b.health(), b.options());
  }

  @Test
  void backendsCredentialsOptionsProtocolOrProbeIntervalNeedARebuild() {
    ClusterConfig base = config(List.of(P1, P2));
    Cluster cluster = cluster(base);
    assertFalse(cluster.canReconfigure(with(base, base.protocol(), List.of(P1), base.credentials(), base.options(), base.health())));
    assertFalse(cluster.canReconfigure(with(base, base.protocol(), base.backends(), new Credentials("u", "p"), base.options(), base.health())));
    assertFalse(cluster.canReconfigure(with(base, base.protocol(), base.backends(), base.credentials(), Map.of("db", 2), base.health())));
    assertFalse(cluster.canReconfigure(with(base, "postgres", base.backends(), base.credentials(), base.options(), base.health())));
    assertFalse(cluster.canReconfigure(with(base, base.protocol(), base.backends(), base.credentials(), base.options(),
        new HealthConfig(9_999, 1_000, 250, 10_000))));
  }

  private static ClusterConfig with(ClusterConfig b, String protocol, List<BackendConfig> backends, Credentials c,
      Map<String, Object> options, HealthConfig health) {
    return new ClusterConfig(b.name(), protocol, c, backends, b.balancer(), b.pool(), b.ru(), health, options);
  }

  private static ClusterConfig config(List<BackendConfig> backends) {
    return new ClusterConfig("c", "redis", Credentials.NONE, backends, BalancerConfig.DEFAULT,
        new PoolConfig("multiplex", 0, 4, 10, 60_000, 1_000, 1_000), RuWeights.DEFAULT, HealthConfig.DEFAULT,
        Map.of());
  }

  private Cluster cluster(ClusterConfig config) {
    SplittableRandom r = new SplittableRandom(3);
    RandomSource random = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return r.nextInt(bound);
      }

      @Override
      public double nextDouble() {
        return r.nextDouble();
      }
    };
    return new Cluster(config, new NoConnector(), new Bootstrap(), clock, new ManualScheduler(clock), random);
  }

  private static final class NoConnector implements BackendConnector {
    @Override
    public void initChannel(Channel channel) {
    }

    @Override
    public void handshake(PooledConnection connection, Promise<Void> ready) {
      ready.setFailure(new IllegalStateException("not in this test"));
    }

    @Override
    public void probe(PooledConnection connection, Promise<Void> result) {
      result.setFailure(new IllegalStateException("not in this test"));
    }
  }
}

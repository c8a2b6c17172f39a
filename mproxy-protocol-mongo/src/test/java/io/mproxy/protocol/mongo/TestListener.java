package io.mproxy.protocol.mongo;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
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
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
import io.netty.bootstrap.Bootstrap;
import java.util.List;
import java.util.Map;

/**
 * A listener context for session tests on EmbeddedChannel: real gateway and cluster objects on a
 * manual clock. The cluster is never started and its one backend address accepts nothing, so
 * these tests cover what the session answers without a backend.
 */
final class TestListener implements ListenerContext {

  final ManualClock clock = new ManualClock();
  private final ListenerConfig config;
  private final Gateway gateway;
  private final Cluster cluster;

  private TestListener(AuthConfig auth, int maxFrameBytes, double defaultRuPerSec) {
    this.config = new ListenerConfig("mongo", "mongodb", new HostPort("127.0.0.1", 0), "c", auth, 100,
        maxFrameBytes, Map.of());
    ClusterConfig cc = new ClusterConfig("c", "mongodb", Credentials.NONE,
        List.of(new BackendConfig(new HostPort("127.0.0.1", 9), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, PoolConfig.DEFAULT, RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of());
    ResourceGroupConfig group = new ResourceGroupConfig(ResourceGroupConfig.DEFAULT_GROUP, defaultRuPerSec,
        defaultRuPerSec, Priority.NORMAL, ResourceGroupConfig.OnExhausted.REJECT, 0, 0, defaultRuPerSec);
    ProxyConfig pc = new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(config),
        Map.of("c", cc), Map.of(ResourceGroupConfig.DEFAULT_GROUP, group), List.of());
    this.gateway = new Gateway(pc, clock, Telemetry.NOOP, new FingerprintStore(100));
    RandomSource random = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }

      @Override
      public double nextDouble() {
        return 0;
      }
    };
    this.cluster = new Cluster(cc, new MongoBackendConnector(cc), new Bootstrap(), clock,
        new ManualScheduler(clock), random);
  }

  static TestListener open() {
    return new TestListener(AuthConfig.PASSTHROUGH, 64 * 1024, 1e9);
  }

  static TestListener withUsers(AuthConfig.UserConfig... users) {
    return new TestListener(new AuthConfig(AuthConfig.Mode.TERMINATE, List.of(users)), 64 * 1024, 1e9);
  }

  /** A listener whose default group has (almost) no RU budget: every forwarded command is refused. */
  static TestListener starved() {
    TestListener l = new TestListener(AuthConfig.PASSTHROUGH, 64 * 1024, 1e-3);
    // the bucket starts full: empty it, and with the clock standing still it stays empty
    l.gateway.groups().get(ResourceGroupConfig.DEFAULT_GROUP).bucket().acquire(1, 0);
    return l;
  }

  @Override
  public ListenerConfig config() {
    return config;
  }

  @Override
  public Origin origin() {
    return new Origin(config.name(), config.protocol());
  }

  @Override
  public Gateway gateway() {
    return gateway;
  }

  @Override
  public Cluster cluster() {
    return cluster;
  }

  @Override
  public Clock clock() {
    return clock;
  }
}

package io.mproxy.protocol.redis;

import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.testing.LoopbackListener;
import io.mproxy.core.time.ManualClock;
import java.util.List;
import java.util.Map;

/**
 * The Redis listener and cluster wired as the daemon wires them (the protocol adapter's client
 * pipeline, a real {@link Cluster} with its pool and the Redis connector, the core gateway), on
 * real sockets in front of a real backend address, with a chosen number of event loops and pool
 * size. Lets the forward path be tested with a pool of one connection shared by several clients,
 * on one loop (replies copied straight to the client) or on two (replies handed across loops).
 * The scheduler is manual, so pool upkeep and health probes never run: connections open on demand.
 */
final class MiniProxy {

  private MiniProxy() {
  }

  static LoopbackListener start(String backendHost, int backendPort, int eventLoops, int poolSize)
      throws InterruptedException {
    return start(backendHost, backendPort, eventLoops, poolSize, new RedisProtocolAdapter());
  }

  /** The same with another adapter (one that wraps the Redis adapter, to watch its channels). */
  static LoopbackListener start(String backendHost, int backendPort, int eventLoops, int poolSize,
      io.mproxy.core.spi.ProtocolAdapter adapter) throws InterruptedException {
    ListenerConfig config = new ListenerConfig("redis", "redis", new HostPort("127.0.0.1", 0), "c",
        AuthConfig.PASSTHROUGH, 100, 64 * 1024 * 1024, Map.of());
    ClusterConfig cc = new ClusterConfig("c", "redis", Credentials.NONE,
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("default", 0, poolSize, 50, 60_000, 5_000, 5_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of());
    return new LoopbackListener(adapter, config, cc, ResourceGroupConfig.unlimitedDefault(),
        eventLoops, new ManualClock());
  }
}

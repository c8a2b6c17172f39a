package io.mproxy.protocol.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
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
import java.util.concurrent.TimeUnit;

/**
 * The MongoDB listener and cluster wired as the daemon wires them (the adapter's client pipeline,
 * a real cluster with its pool and the MongoDB connector, the core gateway) on real sockets in
 * front of a real backend, with a chosen number of event loops and pool size; and the official
 * driver as its client. Connections open on demand (no pool upkeep, no health probes).
 */
final class MiniMongoProxy {

  private MiniMongoProxy() {
  }

  static LoopbackListener start(String backendHost, int backendPort, int eventLoops, int poolSize)
      throws InterruptedException {
    ListenerConfig config = new ListenerConfig("mongo", "mongodb", new HostPort("127.0.0.1", 0), "c",
        AuthConfig.PASSTHROUGH, 100, 16 * 1024 * 1024, Map.of());
    ClusterConfig cc = new ClusterConfig("c", "mongodb", Credentials.NONE,
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("default", 0, poolSize, 50, 60_000, 5_000, 5_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of());
    return new LoopbackListener(new MongoProtocolAdapter(), config, cc, ResourceGroupConfig.unlimitedDefault(),
        eventLoops, new ManualClock());
  }

  /**
   * A driver client of {@code proxy} with up to {@code connections} connections, bounded timeouts,
   * no retries, and no heartbeat during a test (its monitor speaks only to the proxy itself).
   */
  static MongoClient client(LoopbackListener proxy, int connections) {
    return MongoClients.create(MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + proxy.port()))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .applyToServerSettings(s -> s.heartbeatFrequency(10, TimeUnit.MINUTES))
        .applyToSocketSettings(s -> s.connectTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS))
        .applyToConnectionPoolSettings(p -> p.maxSize(connections).maxWaitTime(30, TimeUnit.SECONDS))
        .retryWrites(false)
        .retryReads(false)
        .build());
  }
}

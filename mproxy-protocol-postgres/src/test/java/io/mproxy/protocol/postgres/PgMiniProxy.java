package io.mproxy.protocol.postgres;

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
 * A PostgreSQL listener and cluster wired as the daemon wires them (the adapter's client
 * pipeline, a real {@link Cluster} with its pool and the PostgreSQL connector, the core gateway),
 * on real sockets in front of a real server, in transaction pool mode, clients logging in with
 * md5 as user {@code app}. The clock is manual and counts its readings, so a test can see how
 * often the forward path reads the time; the scheduler is manual, so pool upkeep and health
 * probes never run and connections open on demand.
 */
final class PgMiniProxy {

  static final String USER = "app";
  static final String PASSWORD = "secret";

  private PgMiniProxy() {
  }

  /**
   * @param backendUser the role the proxy logs in to the server as (its password is
   *     {@link #PASSWORD}), in database {@code database}
   */
  static LoopbackListener start(String backendHost, int backendPort, String backendUser, String database,
      int eventLoops, int poolSize) throws InterruptedException {
    AuthConfig auth = new AuthConfig(AuthConfig.Mode.TERMINATE,
        List.of(new AuthConfig.UserConfig(USER, PASSWORD, null)));
    ListenerConfig config = new ListenerConfig("pg", "postgres", new HostPort("127.0.0.1", 0), "c", auth, 1000,
        64 * 1024 * 1024, Map.of("auth_method", "md5"));
    ClusterConfig cc = new ClusterConfig("c", "postgres", new Credentials(backendUser, PASSWORD),
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("transaction", 0, poolSize, 50, 60_000, 5_000, 5_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of("database", database));
    return new LoopbackListener(new PgProtocolAdapter(), config, cc, ResourceGroupConfig.unlimitedDefault(),
        eventLoops, new ManualClock());
  }
}

package io.mproxy.protocol.mysql;

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
import io.mproxy.core.time.Clock;
import io.mproxy.testkit.MariaDbServer;
import java.util.List;
import java.util.Map;

/**
 * The MySQL listener and cluster wired as the daemon wires them (the protocol adapter's client
 * pipeline, a real {@link Cluster} with its pool and the MySQL connector logging in to a real
 * MariaDB, the core gateway), on real sockets, with a chosen number of event loops, pool size and
 * resource group. The clock is the system's, counted: every reading of the monotonic time the
 * proxy takes is counted, so tests can tell how many readings a command costs. The cluster's
 * scheduler is manual, so pool upkeep and health probes never run: connections open on demand.
 */
final class MiniMysqlProxy {

  static final String USER = "client";
  static final String PASSWORD = "client-secret";

  /** The system's clock (MariaDB's timeouts are real). */
  private static final Clock SYSTEM = new Clock() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public long wallMillis() {
      return System.currentTimeMillis();
    }
  };

  private MiniMysqlProxy() {
  }

  /** In front of {@code db}, with an unlimited default resource group. */
  static LoopbackListener start(MariaDbServer db, int eventLoops, int poolSize) throws InterruptedException {
    return start(db, eventLoops, poolSize, ResourceGroupConfig.unlimitedDefault());
  }

  /** In front of {@code db}, every client in {@code group} (its name must be the default group's). */
  static LoopbackListener start(MariaDbServer db, int eventLoops, int poolSize, ResourceGroupConfig group)
      throws InterruptedException {
    return start(db.host(), db.port(), eventLoops, poolSize, group);
  }

  /**
   * For sessions tested without a backend (commands the proxy answers itself): the cluster
   * points at a loopback port nothing is asked to connect to.
   */
  static LoopbackListener withoutBackend() throws InterruptedException {
    return start("127.0.0.1", 9, 1, 1, ResourceGroupConfig.unlimitedDefault());
  }

  private static LoopbackListener start(String backendHost, int backendPort, int eventLoops, int poolSize,
      ResourceGroupConfig group) throws InterruptedException {
    AuthConfig auth = new AuthConfig(AuthConfig.Mode.TERMINATE,
        List.of(new AuthConfig.UserConfig(USER, PASSWORD, null)));
    ListenerConfig config = new ListenerConfig("mysql", "mysql", new HostPort("127.0.0.1", 0), "c", auth, 100,
        64 * 1024 * 1024, Map.of());
    ClusterConfig cc = new ClusterConfig("c", "mysql", new Credentials(MariaDbServer.USER, MariaDbServer.PASSWORD),
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("transaction", 0, poolSize, 50, 60_000, 5_000, 20_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of(MysqlProtocolAdapter.DATABASE, MariaDbServer.DATABASE));
    return new LoopbackListener(new MysqlProtocolAdapter(), config, cc, group, eventLoops, SYSTEM);
  }
}

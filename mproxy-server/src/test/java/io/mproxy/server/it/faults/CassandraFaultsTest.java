package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.servererrors.CoordinatorException;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.RedisServer;
import io.mproxy.testkit.Signals;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProtocolFaultsContract} for Cassandra, with the DataStax Java driver 4 as the client.
 * The victim is a Cassandra 5.0.6 node of its own ({@link CassandraServer#startNew()}, a child
 * JVM), SIGKILLed and restarted on the same data. CQL has no server-side sleep, so the slow
 * request is a {@code SELECT} sent while the node is frozen with SIGSTOP. A second node would
 * cost another minute and gigabyte, so the backend that must stay untouched is a Redis server
 * behind a Redis listener of the same proxy.
 */
class CassandraFaultsTest extends FrozenBackendContract {

  private static final String USER = "app";
  private static final String PASSWORD = "app-secret";
  private static final Duration DRIVER_TIMEOUT = Duration.ofSeconds(90);

  private CassandraServer victim;
  private RedisServer other;
  private ClientResources resources;

  @Override
  String protocol() {
    return "cassandra";
  }

  @Override
  void startBackends() {
    other = RedisServer.start();
    resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(1).build();
    victim = CassandraServer.startNew();
  }

  @Override
  void stopBackends() throws Exception {
    try (RedisServer o = other) {
      if (victim != null) {
        victim.kill();
      }
      resources.shutdown(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
  }

  @Override
  String victimAddress() {
    return victim.address();
  }

  @Override
  String otherAddress() {
    return other.address();
  }

  @Override
  void killVictim() {
    victim.kill();
  }

  @Override
  void restartVictim() {
    victim.restart();
  }

  @Override
  void holdVictim() {
    Signals.stop(victim.pid());
  }

  @Override
  void releaseVictim() {
    Signals.resume(victim.pid());
  }

  @Override
  String health() {
    return "{ interval_ms: 60000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 1000 }";
  }

  @Override
  String listenerYaml(String name, String cluster) {
    return "  - name: " + name + "\n"
        + "    protocol: cassandra\n"
        + "    bind: 127.0.0.1:0\n"
        + "    cluster: " + cluster + "\n"
        + "    auth: { mode: terminate, users: [ { name: " + USER + ", password: " + PASSWORD + " } ] }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: cassandra\n"
        + "    credentials: { user: " + CassandraServer.SUPERUSER + ", password: "
        + CassandraServer.SUPERUSER_PASSWORD + " }\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  String otherListenerYaml(String name, String cluster) {
    return "  - { name: " + name + ", protocol: redis, bind: 127.0.0.1:0, cluster: " + cluster + " }\n";
  }

  @Override
  String otherClusterYaml(String address) {
    return "    protocol: redis\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  FaultClient connectOther(int port) {
    return LettuceFaultClient.open(resources, port);
  }

  @Override
  String deadlineListenerYaml(String name, String cluster, long queryTimeoutMs) {
    return listenerYaml(name, cluster) + "    query_timeout_ms: " + queryTimeoutMs + "\n";
  }

  @Override
  void freezeVictim() {
    Signals.stop(victim.pid());
  }

  @Override
  void thawVictim() {
    Signals.resume(victim.pid());
  }

  @Override
  void assertTimeoutError(Throwable error, String setting, String when) {
    Throwable proxyError = proxyError(error);
    if (!(proxyError instanceof com.datastax.oss.driver.api.core.servererrors.ServerError)) {
      throw new AssertionError(when + ": a Server error frame from the proxy (mproxy: timeout ...): " + error, error);
    }
    System.out.println("[faults] cassandra " + when + ": " + oneLine(proxyError));
    String expected = "mproxy: timeout group=default reason=query_timeout_ms (" + setting;
    if (!proxyError.getMessage().contains(expected)) {
      throw new AssertionError(when + ": expected " + expected + " in " + proxyError.getMessage(), proxyError);
    }
  }

  @Override
  FaultClient connect(int port) {
    CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", port))
        .withLocalDatacenter("datacenter1")
        .withAuthCredentials(USER, PASSWORD)
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, DRIVER_TIMEOUT)
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(20))
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, Duration.ofSeconds(20))
            .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 1)
            .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, false)
            .withBoolean(DefaultDriverOption.METADATA_TOKEN_MAP_ENABLED, false)
            .withString(DefaultDriverOption.RETRY_POLICY_CLASS, "DefaultRetryPolicy")
            .build())
        .build();
    return new FaultClient() {
      @Override
      public String roundTrip() {
        Row row = session.execute("SELECT release_version FROM system.local").one();
        assertNotNull(row, "system.local has a row");
        return row.getString(0);
      }

      @Override
      public CompletableFuture<String> slow(int seconds) {
        return session.executeAsync("SELECT cluster_name FROM system.local").toCompletableFuture()
            .thenApply(rs -> String.valueOf(rs.one().getString(0)));
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    Throwable proxyError = proxyError(error);
    if (proxyError == null) {
      throw new AssertionError(when + ": an ERROR frame from the proxy (mproxy: ...), not a broken connection: "
          + error, error);
    }
    System.out.println("[faults] cassandra " + when + ": " + oneLine(proxyError));
  }

  /**
   * The proxy's ERROR frame as the driver reports it: a {@link CoordinatorException} for a
   * request; while a session starts, the node's error inside {@link AllNodesFailedException}
   * ("Protocol initialization request ... server replied with unexpected error code [OVERLOADED]:
   * mproxy: ...").
   */
  private static Throwable proxyError(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof CoordinatorException c && String.valueOf(c.getMessage()).contains("mproxy: ")) {
        return c;
      }
      if (String.valueOf(t.getMessage()).contains("server replied with unexpected error code")
          && String.valueOf(t.getMessage()).contains("mproxy: ")) {
        return t;
      }
      if (t instanceof AllNodesFailedException all) {
        for (List<Throwable> errors : all.getAllErrors().values()) {
          for (Throwable e : errors) {
            Throwable found = proxyError(e);
            if (found != null) {
              return found;
            }
          }
        }
      }
    }
    return null;
  }
}

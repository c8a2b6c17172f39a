package io.mproxy.server.it.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A mproxy daemon with one Cassandra listener ({@value #LISTENER}) in front of the shared
 * {@link CassandraServer} node, and Apache Cassandra Java driver sessions through it: clients
 * log in as {@value #USER}/{@value #PASSWORD} (or the extra users), the proxy logs in to the node
 * as its superuser. Every pool is capped at {@code max_size} connections per variant.
 */
final class CassandraProxy {

  static final String LISTENER = "cql";
  static final String USER = "app";
  static final String PASSWORD = "app-secret";
  static final String DATACENTER = "datacenter1";
  /** DDL waits for schema agreement: generous on a loaded machine. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

  private CassandraProxy() {
  }

  /** Starts the proxy; {@code tail} is extra top-level YAML (resource_groups:, tenants:). */
  static ProxyFixture start(CassandraServer node, int maxSize, String extraUsers, String tail) throws Exception {
    return start(node, maxSize, extraUsers, "", tail);
  }

  /**
   * As above; {@code clusterExtra} is more YAML inside the cluster, each line indented by four
   * spaces (e.g. {@code "    compression: lz4\n"}).
   */
  static ProxyFixture start(CassandraServer node, int maxSize, String extraUsers, String clusterExtra, String tail)
      throws Exception {
    return ProxyFixture.startYaml(yaml(node.address(), "{ watch_config: false, shutdown_grace_ms: 5000 }", maxSize,
        extraUsers, "", clusterExtra, tail), LISTENER);
  }

  /**
   * The proxy's configuration: {@code server} is the server mapping, {@code listenerExtra} and
   * {@code clusterExtra} are more YAML inside the listener and the cluster, each line indented by
   * four spaces (e.g. {@code "    tls: { cert: a.pem, key: a.key }\n"}).
   */
  static String yaml(String backend, String server, int maxSize, String extraUsers, String listenerExtra,
      String clusterExtra, String tail) {
    return "server: " + server + "\n"
        + "admin: { bind: 127.0.0.1:0 }\n"
        + "listeners:\n"
        + "  - name: " + LISTENER + "\n"
        + "    protocol: cassandra\n"
        + "    bind: 127.0.0.1:0\n"
        + "    cluster: cass\n"
        + "    auth: { mode: terminate, users: [ { name: " + USER + ", password: " + PASSWORD + " }"
        + extraUsers + " ] }\n"
        + listenerExtra
        + "clusters:\n"
        + "  cass:\n"
        + "    protocol: cassandra\n"
        + "    credentials: { user: " + CassandraServer.SUPERUSER + ", password: "
        + CassandraServer.SUPERUSER_PASSWORD + " }\n"
        + "    backends:\n"
        + "      - { address: " + backend + ", role: primary }\n"
        + "    pool: { mode: multiplex, min_idle: 1, max_size: " + maxSize + ", acquire_timeout_ms: 20000 }\n"
        + "    health: { interval_ms: 1000, timeout_ms: 5000, retry_base_ms: 100, retry_max_ms: 1000 }\n"
        + clusterExtra
        + tail;
  }

  /** A driver session through the proxy with protocol {@code version} ("V4", "V5" or null: negotiate). */
  static CqlSession session(ProxyFixture proxy, String user, String password, String version, String keyspace) {
    return session(proxy, user, password, version, keyspace, true);
  }

  /** As above; {@code schemaMetadata} false keeps the driver from reading the schema tables. */
  static CqlSession session(ProxyFixture proxy, String user, String password, String version, String keyspace,
      boolean schemaMetadata) {
    return session(proxy, user, password, version, keyspace, schemaMetadata, null);
  }

  /** As above; {@code compression} is the driver's {@code advanced.protocol.compression} (null: none). */
  static CqlSession session(ProxyFixture proxy, String user, String password, String version, String keyspace,
      boolean schemaMetadata, String compression) {
    return builder(proxy.port(), user, password, version, keyspace, schemaMetadata, compression).build();
  }

  /** A driver session builder for the proxy's listener on {@code port}, options as above (TLS is added by callers). */
  static CqlSessionBuilder builder(int port, String user, String password, String version, String keyspace,
      boolean schemaMetadata, String compression) {
    ProgrammaticDriverConfigLoaderBuilder config = DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, REQUEST_TIMEOUT)
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(20))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, Duration.ofSeconds(20))
        .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, REQUEST_TIMEOUT)
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, REQUEST_TIMEOUT)
        .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 1)
        .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, schemaMetadata);
    if (version != null) {
      config = config.withString(DefaultDriverOption.PROTOCOL_VERSION, version);
    }
    if (compression != null) {
      config = config.withString(DefaultDriverOption.PROTOCOL_COMPRESSION, compression);
    }
    CqlSessionBuilder builder = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", port))
        .withLocalDatacenter(DATACENTER)
        .withAuthCredentials(user, password)
        .withConfigLoader(config.build());
    if (keyspace != null) {
      builder = builder.withKeyspace(keyspace);
    }
    return builder;
  }
}

package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.LOADER;
import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.AuthConfig.UserConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BackendConfig.Role;
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
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.ShuffleShardConfig;
import io.mproxy.core.config.TenantRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void fullFileBindsToTheRecords() {
    ProxyConfig config = valid("""
        server: { shutdown_grace_ms: 5000, io_threads: 4, ru_tick_ms: 50, watch_config: false }
        admin: { bind: 0.0.0.0:9000, token: an-admin-token-of-32-characters }
        listeners:
          - name: cache
            protocol: redis
            bind: 127.0.0.1:6380
            cluster: redis-main
            auth:
              mode: terminate
              users: [ { name: app, password: secret }, { name: ops, scram_verifier: 'SCRAM-SHA-256$x' } ]
            max_client_connections: 500
            max_frame_bytes: 1mb
            max_pipeline: 64
        clusters:
          redis-main:
            protocol: redis
            credentials: { user: proxy, password: hunter2 }
            backends:
              - { address: 127.0.0.1:6379, role: primary }
              - { address: '[::1]:6379', role: replica }
            balancer: { strategy: p2c, score: peak_ewma }
            pool:
              mode: multiplex
              min_idle: 2
              max_size: 20
              max_opens_per_sec: 10
              idle_timeout_ms: 30000
              connect_timeout_ms: 1000
              acquire_timeout_ms: 0
            ru: { w_read: 0.0009765625, w_write: 1, w_latency: 0.25 }
            health: { interval_ms: 500, timeout_ms: 200, retry_base_ms: 100, retry_max_ms: 5000 }
            database: 2
        resource_groups:
          default: { ru_per_sec: 100000, burst: 200000, priority: normal, on_exhausted: reject }
          batch:
            ru_per_sec: 500
            burst: 1000
            priority: low
            on_exhausted: queue
            max_queue_ms: 2000
            max_queued: 50
            max_debt: 250
        tenants:
          - { match: { user: report_job }, group: batch }
          - match: { listener: cache, user: app, database: '0', application: checkout }
            group: default
            priority: high
            allow_hints: true
          - { group: default }
        """);

    assertEquals(new ServerSettings(5000, 4, 50, false), config.server());
    assertEquals(new AdminConfig(new HostPort("0.0.0.0", 9000), "an-admin-token-of-32-characters"), config.admin());
    assertEquals(List.of(new ListenerConfig("cache", "redis", new HostPort("127.0.0.1", 6380),
        "redis-main", new AuthConfig(AuthConfig.Mode.TERMINATE, List.of(
            new UserConfig("app", "secret", null), new UserConfig("ops", null, "SCRAM-SHA-256$x"))),
        500, 1024 * 1024, Map.of("max_pipeline", 64L))), config.listeners());
    assertEquals(Map.of("redis-main", new ClusterConfig("redis-main", "redis",
        new Credentials("proxy", "hunter2"),
        List.of(new BackendConfig(new HostPort("127.0.0.1", 6379), Role.PRIMARY),
            new BackendConfig(new HostPort("::1", 6379), Role.REPLICA)),
        new BalancerConfig("p2c", BalancerConfig.Score.PEAK_EWMA),
        new PoolConfig("multiplex", 2, 20, 10, 30_000, 1_000, 0),
        new RuWeights(1.0 / 1024, 1.0, 0.25),
        new HealthConfig(500, 200, 100, 5_000),
        Map.of("database", 2L))), config.clusters());
    assertEquals(Map.of(
        "default", new ResourceGroupConfig("default", 100_000, 200_000, Priority.NORMAL,
            OnExhausted.REJECT, 1_000, 1_000, 200_000),
        "batch", new ResourceGroupConfig("batch", 500, 1_000, Priority.LOW, OnExhausted.QUEUE,
            2_000, 50, 250)), config.resourceGroups());
    assertEquals(List.of(
        new TenantRule(null, "report_job", null, null, "batch", null, false),
        new TenantRule("cache", "app", "0", "checkout", "default", Priority.HIGH, true),
        new TenantRule(null, null, null, null, "default", null, false)), config.tenants());
  }

  @Test
  void omittedKeysTakeTheRecordDefaults() {
    ProxyConfig config = valid("""
        listeners:
          - { name: cache, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
        clusters:
          main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
        resource_groups:
          batch: { ru_per_sec: 500, burst: 800 }
        tenants:
          - { match: { user: x } }
        """);

    assertSame(ServerSettings.DEFAULT, config.server());
    assertSame(AdminConfig.DEFAULT, config.admin());
    ListenerConfig listener = config.listeners().get(0);
    assertSame(AuthConfig.PASSTHROUGH, listener.auth());
    assertEquals(ListenerConfig.DEFAULT_MAX_CLIENT_CONNECTIONS, listener.maxClientConnections());
    assertEquals(ListenerConfig.DEFAULT_MAX_FRAME_BYTES, listener.maxFrameBytes());
    assertEquals(Map.of(), listener.options());
    ClusterConfig cluster = config.clusters().get("main");
    assertSame(Credentials.NONE, cluster.credentials());
    assertEquals(List.of(new BackendConfig(new HostPort("127.0.0.1", 6379), Role.PRIMARY)),
        cluster.backends());
    assertSame(BalancerConfig.DEFAULT, cluster.balancer());
    assertSame(PoolConfig.DEFAULT, cluster.pool());
    assertSame(RuWeights.DEFAULT, cluster.ru());
    assertSame(HealthConfig.DEFAULT, cluster.health());
    // burst given: max_debt follows burst; queue limits and choices take their defaults
    assertEquals(new ResourceGroupConfig("batch", 500, 800, Priority.NORMAL, OnExhausted.REJECT,
        1_000, 1_000, 800), config.resourceGroups().get("batch"));
    assertEquals(ResourceGroupConfig.unlimitedDefault(), config.resourceGroups().get("default"));
    assertEquals(new TenantRule(null, "x", null, null, "default", null, false), config.tenants().get(0));
  }

  @Test
  void shuffleShardBindsIntoTheBalancer() {
    ClusterConfig c = valid("""
        clusters:
          main:
            protocol: redis
            backends: [ { address: 127.0.0.1:6379 }, { address: 127.0.0.1:6380 } ]
            balancer: { score: peak_ewma }
            shuffle_shard: { hand_size: 2, seed: 7 }
        """).clusters().get("main");
    assertEquals(new ShuffleShardConfig(2, 7), c.balancer().shuffleShard());
    assertEquals(BalancerConfig.Score.PEAK_EWMA, c.balancer().score());
  }

  @Test
  void burstDefaultsToTheRateAndDebtToTheBurst() {
    ResourceGroupConfig g = valid("resource_groups: { g: { ru_per_sec: 250 } }").resourceGroups().get("g");
    assertEquals(250, g.burst());
    assertEquals(250, g.maxDebt());
  }

  @Test
  void emptyFileAndNullSectionsMeanDefaults() {
    ProxyConfig empty = valid("");
    assertEquals(new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(), Map.of(),
        Map.of("default", ResourceGroupConfig.unlimitedDefault()), List.of()), empty);
    assertEquals(empty, valid("# nothing yet\nserver:\nlisteners:\nclusters:\ntenants:\n"));
  }

  @Test
  void aliasesResolveToTheAnchoredValue() {
    ProxyConfig config = valid("""
        clusters:
          a: &redis { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          b: *redis
        """);
    assertEquals(config.clusters().get("a").backends(), config.clusters().get("b").backends());
    assertEquals("b", config.clusters().get("b").name());
  }

  @Test
  void yamlSyntaxErrorIsOneLocatedProblem() {
    assertEquals(List.of("t.yaml:2:6: YAML syntax error: expected ',' or ']', but got : "
        + "(while parsing a flow sequence started at line 1, column 12)"), problems("""
        listeners: [1, 2
        admin: x
        """));
    assertEquals(List.of("t.yaml:2:7: YAML syntax error: mapping values are not allowed here"),
        problems("""
        admin: x
          bind: 127.0.0.1:1
        """));
  }

  @Test
  void yamlStructureProblems() {
    assertEquals(List.of("t.yaml:2:1: duplicate key 'admin' (first at line 1)"), problems("""
        admin: { bind: 127.0.0.1:1 }
        admin: { bind: 127.0.0.1:2 }
        """));
    assertEquals(List.of("t.yaml:1:8: alias '*nope' has no anchor '&nope' before it"),
        problems("admin: *nope\n"));
    assertEquals(List.of("t.yaml:3:1: a second YAML document (expected: one document per file)"),
        problems("admin: { bind: 127.0.0.1:1 }\n---\nadmin: { bind: 127.0.0.1:2 }\n"));
    assertEquals(List.of("t.yaml:1:1: the file holds a list (expected: a mapping with keys server, "
        + "admin, listeners, clusters, resource_groups, tenants, cluster, codel, runaway, logging, telemetry)"), problems("- a\n- b\n"));
  }

  @Test
  void loadReadsTheFileAndNamesIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("proxy.yaml");
    Files.writeString(file, "admin: { bind: 127.0.0.1:99999 }\n");
    assertEquals(List.of(file + ":1:16: bind: port 99999 (expected: 0..65535)"),
        LOADER.load(file).problems().stream().map(ConfigProblem::toString).toList());

    Path missing = dir.resolve("nope.yaml");
    assertEquals(List.of(new ConfigProblem(missing.toString(), 1, 1, "cannot read: no such file")),
        LOADER.load(missing).problems());
  }

  @Test
  void invalidResultHasNoConfig() {
    LoadResult result = LOADER.parse("t.yaml", "admin: 1\n");
    assertFalse(result.isValid());
    IllegalStateException e = assertThrows(IllegalStateException.class, result::config);
    assertTrue(e.getMessage().contains("t.yaml:1:8: admin: 1 (expected: a mapping)"), e.getMessage());
  }

  @Test
  void twoAdaptersForOneProtocolAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new ConfigLoader(List.of(TestAdapter.redis(), TestAdapter.redis())));
  }

  @Test
  void exampleRedisConfigLoadsCleanly() {
    Path file = repoFile("config/redis.yaml");
    LoadResult result = new ConfigLoader(List.of(TestAdapter.redis())).load(file);
    assertEquals(List.of(), result.problems());

    ProxyConfig config = result.config();
    ListenerConfig listener = config.listeners().get(0);
    assertEquals("redis", listener.protocol());
    assertEquals(new HostPort("127.0.0.1", 6380), listener.bind());
    ClusterConfig cluster = config.clusters().get(listener.cluster());
    assertEquals(List.of(new HostPort("127.0.0.1", 6379)),
        cluster.backends().stream().map(BackendConfig::address).toList());
    assertEquals(List.of("batch", "default"),
        config.resourceGroups().keySet().stream().sorted().toList());
    assertFalse(config.tenants().isEmpty());
    assertTrue(config.resourceGroups().containsKey(config.tenants().get(0).group()));
  }

  /** A file of the repository, found from the module directory tests run in. */
  static Path repoFile(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
  }
}

package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every validation rule, with the exact located message it produces. */
class ConfigValidationTest {

  @Nested
  class UnknownKeys {

    @Test
    void topLevel() {
      assertEquals(List.of("t.yaml:2:1: unknown key 'listner' (expected one of: server, admin, "
          + "listeners, clusters, resource_groups, tenants, cluster, codel, runaway, logging, telemetry)"), problems("""
          admin: { bind: 127.0.0.1:9901 }
          listner: []
          """));
    }

    @Test
    void listenerListsItsProtocolOptionKeys() {
      assertEquals(List.of("t.yaml:6:5: unknown key 'max_pipelin' (expected one of: name, protocol, "
          + "bind, cluster, auth, max_client_connections, max_frame_bytes, max_accepts_per_sec, "
          + "handshake_timeout_ms, auth_max_failures, auth_failure_window_ms, auth_block_ms, max_pipeline)"),
        problems("""
          listeners:
            - name: cache
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: main
              max_pipelin: 5
          clusters:
            main:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
          """));
    }

    @Test
    void nestedSection() {
      assertEquals(List.of("t.yaml:5:13: unknown key 'max' (expected one of: mode, min_idle, "
          + "max_size, max_opens_per_sec, idle_timeout_ms, connect_timeout_ms, acquire_timeout_ms)"),
          problems("""
          clusters:
            main:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              pool: { max: 3 }
          """));
    }

    @Test
    void clusterOptionOfAnotherProtocol() {
      assertEquals(List.of("t.yaml:5:5: unknown key 'replicas' (expected one of: protocol, "
          + "credentials, backends, balancer, pool, ru, health, circuit, shuffle_shard, database)"), problems("""
          clusters:
            main:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              replicas: 2
          """));
    }
  }

  @Nested
  class Protocols {

    @Test
    void unknownProtocolListsTheAdaptersAndSkipsTheUnknownKeyCheck() {
      assertEquals(List.of("t.yaml:3:15: protocol: 'mongo' (expected one of: postgres, redis)"),
          problems("""
          clusters:
            main:
              protocol: mongo
              backends: [ { address: 127.0.0.1:27017 } ]
              read_preference: nearest
          """));
    }

    @Test
    void missingProtocolIsReportedAtTheSection() {
      assertEquals(List.of("t.yaml:3:5: protocol: missing (expected one of: postgres, redis)"),
          problems("""
          clusters:
            main:
              backends: [ { address: 127.0.0.1:6379 } ]
          """));
    }

    @Test
    void noAdaptersInstalled() {
      LoadResult result = new ConfigLoader(List.of()).parse("t.yaml", """
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """);
      assertEquals("t.yaml:2:21: protocol: 'redis' (no protocol adapters are installed)",
          result.problems().get(0).toString());
    }

    @Test
    void adapterProblemsPointAtTheOptionValue() {
      assertEquals(List.of(
          "t.yaml:6:19: max_pipeline: 0 (expected: >= 1)",
          "t.yaml:11:15: database: 99 (expected: 0..15)"), problems("""
          listeners:
            - name: cache
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: main
              max_pipeline: 0
          clusters:
            main:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              database: 99
          """));
    }

    @Test
    void listenerAndClusterMustSpeakTheSameProtocol() {
      assertEquals(List.of("t.yaml:5:14: cluster: 'pg' is a postgres cluster (expected: a redis cluster)"),
          problems("""
          listeners:
            - name: cache
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: pg
          clusters:
            pg: { protocol: postgres, backends: [ { address: 127.0.0.1:5432 } ] }
          """));
    }
  }

  @Nested
  class Listeners {

    @Test
    void clusterMustBeDefined() {
      assertEquals(List.of("t.yaml:5:14: cluster: 'nope' is not defined (defined: main)"), problems("""
          listeners:
            - name: cache
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: nope
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
    }

    @Test
    void requiredKeysAreReportedAtTheListener() {
      assertEquals(List.of(
          "t.yaml:2:5: name: missing (expected: a listener name)",
          "t.yaml:2:5: bind: missing (expected: host:port)",
          "t.yaml:2:5: cluster: missing (expected: the name of a cluster)"), problems("""
          listeners:
            - protocol: redis
          """));
    }

    @Test
    void namesAreUnique() {
      assertEquals(List.of("t.yaml:3:13: name: 'cache' is already used (first at line 2)"), problems("""
          listeners:
            - { name: cache, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
            - { name: cache, protocol: redis, bind: 127.0.0.1:6381, cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
    }

    @Test
    void bindsAreUniqueAcrossListenersAndWildcards() {
      assertEquals(List.of(
          "t.yaml:3:39: bind: 127.0.0.1:6380 is already used by listener 'a'",
          "t.yaml:4:39: bind: 0.0.0.0:6380 is already used by listener 'a'"), problems("""
          listeners:
            - { name: a, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
            - { name: b, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
            - { name: c, protocol: redis, bind: 0.0.0.0:6380, cluster: main }
            - { name: d, protocol: redis, bind: 127.0.0.2:6381, cluster: main }
            - { name: e, protocol: redis, bind: 127.0.0.1:0, cluster: main }
            - { name: f, protocol: redis, bind: 127.0.0.1:0, cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
    }

    @Test
    void bindMustDifferFromTheAdminBind() {
      assertEquals(List.of(
          "t.yaml:2:39: bind: 127.0.0.1:9901 is already used by admin.bind (default 127.0.0.1:9901)"),
          problems("""
          listeners:
            - { name: a, protocol: redis, bind: 127.0.0.1:9901, cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
      assertEquals(List.of("t.yaml:3:39: bind: localhost:7000 is already used by admin.bind"),
          problems("""
          admin: { bind: localhost:7000 }
          listeners:
            - { name: a, protocol: redis, bind: localhost:7000, cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
    }

    @Test
    void addressesAndPorts() {
      assertEquals(List.of(
          "t.yaml:2:39: bind: port 70000 (expected: 0..65535)",
          "t.yaml:3:39: bind: 'localhost' (expected: host:port)",
          "t.yaml:4:39: bind: 'localhost:http' has no numeric port (expected: host:port)",
          "t.yaml:7:51: address: port 0 (expected: 1..65535)",
          "t.yaml:8:16: bind: port -1 (expected: 0..65535)"), problems("""
          listeners:
            - { name: a, protocol: redis, bind: 127.0.0.1:70000, cluster: main }
            - { name: b, protocol: redis, bind: localhost, cluster: main }
            - { name: c, protocol: redis, bind: 'localhost:http', cluster: main }
            - { name: d, protocol: redis, bind: '[::1]:0', cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:0 } ] }
          admin: { bind: 'h:-1' }
          """));
    }

    @Test
    void limitsAreChecked() {
      assertEquals(List.of(
          "t.yaml:6:29: max_client_connections: 0 (expected: >= 1)",
          "t.yaml:7:22: max_frame_bytes: '64xb' (expected: a size in bytes, or like 512kb or 64mb)",
          "t.yaml:13:29: max_client_connections: 3000000000 (expected: <= 2147483647)",
          "t.yaml:14:22: max_frame_bytes: '4gb' (expected: <= 2147483647)"), problems("""
          listeners:
            - name: a
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: main
              max_client_connections: 0
              max_frame_bytes: 64xb
            - name: b
              protocol: redis
              bind: 127.0.0.1:6381
              cluster: main
              # too large for an int
              max_client_connections: 3000000000
              max_frame_bytes: 4gb
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """));
    }

    @Test
    void frameSizesAcceptUnits() {
      var config = valid("""
          listeners:
            - { name: a, protocol: redis, bind: 127.0.0.1:6380, cluster: main, max_frame_bytes: 512kb }
            - { name: b, protocol: redis, bind: 127.0.0.1:6381, cluster: main, max_frame_bytes: 64MB }
            - { name: c, protocol: redis, bind: 127.0.0.1:6382, cluster: main, max_frame_bytes: 4096 }
            - { name: d, protocol: redis, bind: 127.0.0.1:6383, cluster: main, max_frame_bytes: 1 Gb }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """);
      assertEquals(List.of(512 * 1024, 64 * 1024 * 1024, 4096, 1024 * 1024 * 1024),
          config.listeners().stream().map(l -> l.maxFrameBytes()).toList());
    }
  }

  @Nested
  class Auth {

    private String listenerWith(String auth) {
      return """
          listeners:
            - name: a
              protocol: redis
              bind: 127.0.0.1:6380
              cluster: main
              auth: %s
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          """.formatted(auth);
    }

    @Test
    void terminateNeedsAUser() {
      assertEquals(List.of(
          "t.yaml:6:11: users: missing (expected: at least one user when mode is terminate)"),
          problems(listenerWith("{ mode: terminate }")));
      assertEquals(List.of(
          "t.yaml:6:37: users: empty (expected: at least one user when mode is terminate)"),
          problems(listenerWith("{ mode: terminate, users: [] }")));
    }

    @Test
    void eachUserNeedsAPasswordOrVerifier() {
      assertEquals(List.of(
          "t.yaml:6:39: password: missing (expected: password or scram_verifier)",
          "t.yaml:6:62: name: 'app' is already used (first at line 6)"),
          problems(listenerWith("{ mode: terminate, users: [ { name: app }, { name: app, "
              + "scram_verifier: 'SCRAM-SHA-256$4096:x' } ] }")));
    }

    @Test
    void modeIsAChoice() {
      assertEquals(List.of("t.yaml:6:19: mode: 'trust' (expected one of: terminate, passthrough)"),
          problems(listenerWith("{ mode: trust }")));
    }

    @Test
    void passthroughTakesNoUsers() {
      assertEquals(List.of(
          "t.yaml:6:39: users: given, but mode is passthrough (expected: mode: terminate, or no users)"),
          problems(listenerWith("{ mode: passthrough, users: [ { name: a, password: b } ] }")));
    }
  }

  @Nested
  class Clusters {

    @Test
    void needAtLeastOneBackend() {
      assertEquals(List.of(
          "t.yaml:2:6: backends: missing (expected: at least one backend)",
          "t.yaml:3:35: backends: empty (expected: at least one backend)",
          "t.yaml:4:35: backends: a mapping (expected: a list)",
          "t.yaml:5:37: backends: '127.0.0.1:6379' (expected: a mapping like "
              + "{ address: host:port, role: primary })"), problems("""
          clusters:
            a: { protocol: redis }
            b: { protocol: redis, backends: [] }
            c: { protocol: redis, backends: { address: 127.0.0.1:6379 } }
            d: { protocol: redis, backends: [ 127.0.0.1:6379 ] }
          """));
    }

    @Test
    void backendAddressesAreUniqueAndRolesAChoice() {
      assertEquals(List.of(
          "t.yaml:6:20: address: 127.0.0.1:6379 is listed twice (first at line 5)",
          "t.yaml:7:42: role: 'leader' (expected one of: primary, replica)"), problems("""
          clusters:
            main:
              protocol: redis
              backends:
                - { address: 127.0.0.1:6379 }
                - { address: 127.0.0.1:6379 }
                - { address: 127.0.0.1:6380, role: leader }
          """));
    }

    @Test
    void poolSizes() {
      assertEquals(List.of(
          "t.yaml:5:23: min_idle: 30 (expected: <= max_size 20)",
          "t.yaml:10:19: max_size: 0 (expected: >= 1)",
          "t.yaml:10:54: max_opens_per_sec: 0 (expected: >= 1)",
          "t.yaml:14:23: max_size: 'ten' (expected: an integer)",
          "t.yaml:14:45: idle_timeout_ms: 0 (expected: > 0)"), problems("""
          clusters:
            a:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              pool: { min_idle: 30, max_size: 20 }
            b:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              pool:
                { max_size: 0, min_idle: 0, max_opens_per_sec: 0 }
            c:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              pool: { max_size: ten, idle_timeout_ms: 0 }
          """));
    }

    @Test
    void balancerRuAndHealth() {
      assertEquals(List.of(
          "t.yaml:5:27: strategy: 'round_robin' (expected one of: p2c)",
          "t.yaml:5:47: score: 'fastest' (expected one of: least_inflight, peak_ewma, ru_rate)",
          "t.yaml:6:19: w_read: -1 (expected: >= 0)",
          "t.yaml:6:32: w_write: 'heavy' (expected: a number)",
          "t.yaml:7:28: interval_ms: 0 (expected: > 0)",
          "t.yaml:7:65: retry_max_ms: 100 (expected: >= retry_base_ms 250)"), problems("""
          clusters:
            main:
              protocol: redis
              backends: [ { address: 127.0.0.1:6379 } ]
              balancer: { strategy: round_robin, score: fastest }
              ru: { w_read: -1, w_write: heavy }
              health: { interval_ms: 0, retry_base_ms: 250, retry_max_ms: 100 }
          """));
    }

    @Test
    void sectionOfTheWrongShape() {
      assertEquals(List.of("t.yaml:2:9: main: a list (expected: a mapping)"), problems("""
          clusters:
            main: [ redis ]
          """));
    }
  }

  @Nested
  class ResourceGroups {

    @Test
    void ratesArePositive() {
      assertEquals(List.of(
          "t.yaml:2:20: ru_per_sec: -5 (expected: > 0)",
          "t.yaml:3:31: burst: 0 (expected: > 0)",
          "t.yaml:4:3: ru_per_sec: missing (expected: > 0)",
          "t.yaml:5:45: max_debt: -1 (expected: >= 0)",
          "t.yaml:6:39: max_queue_ms: -1 (expected: >= 0)"), problems("""
          resource_groups:
            a: { ru_per_sec: -5 }
            b: { ru_per_sec: 10, burst: 0 }
            c:
            d: { ru_per_sec: 10, burst: 20, max_debt: -1 }
            e: { ru_per_sec: 1.5, max_queue_ms: -1 }
          """));
    }

    @Test
    void choices() {
      assertEquals(List.of(
          "t.yaml:2:34: priority: 'urgent' (expected one of: high, normal, low)",
          "t.yaml:2:71: on_exhausted: 'drop' (expected one of: reject, queue)"), problems("""
          resource_groups:
            a: { ru_per_sec: 10, priority: urgent, max_queued: 5, on_exhausted: drop }
          """));
    }
  }

  @Nested
  class Tenants {

    @Test
    void groupAndListenerMustBeDefined() {
      assertEquals(List.of(
          "t.yaml:7:34: group: 'nope' is not defined (defined: batch, default)",
          "t.yaml:8:26: listener: 'web' is not defined (defined: a)",
          "t.yaml:9:37: priority: 'top' (expected one of: high, normal, low)",
          "t.yaml:9:55: allow_hints: 'sure' (expected one of: true, false, shadow)",
          "t.yaml:10:16: unknown key 'host' (expected one of: listener, user, database, application)"),
          problems("""
          listeners:
            - { name: a, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
          clusters:
            main: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
          resource_groups: { batch: { ru_per_sec: 10 } }
          tenants:
            - { match: { user: x }, group: nope }
            - { match: { listener: web }, group: batch }
            - { match: { user: y }, priority: top, allow_hints: sure }
            - { match: { host: z } }
          """));
    }
  }

  @Nested
  class Server {

    @Test
    void settingsAreRangeChecked() {
      assertEquals(List.of(
          "t.yaml:2:22: shutdown_grace_ms: -1 (expected: >= 0)",
          "t.yaml:3:15: io_threads: -2 (expected: >= 0)",
          "t.yaml:4:15: ru_tick_ms: 0 (expected: > 0)",
          "t.yaml:5:17: watch_config: 3 (expected: true or false)"), problems("""
          server:
            shutdown_grace_ms: -1
            io_threads: -2
            ru_tick_ms: 0
            watch_config: 3
          """));
    }
  }

  @Test
  void everyProblemInAFileIsReportedInFileOrder() {
    assertEquals(List.of(
        "t.yaml:1:16: bind: 'nowhere' (expected: host:port)",
        "t.yaml:3:5: name: missing (expected: a listener name)",
        "t.yaml:3:15: protocol: 'memcache' (expected one of: postgres, redis)",
        "t.yaml:5:14: cluster: 'missing' is not defined (defined: main)",
        "t.yaml:9:15: backends: empty (expected: at least one backend)",
        "t.yaml:12:17: ru_per_sec: 0 (expected: > 0)",
        "t.yaml:13:1: unknown key 'tennants' (expected one of: server, admin, listeners, clusters, "
            + "resource_groups, tenants, cluster, codel, runaway, logging, telemetry)"), problems("""
        admin: { bind: nowhere }
        listeners:
          - protocol: memcache
            bind: 127.0.0.1:6380
            cluster: missing
        clusters:
          main:
            protocol: redis
            backends: []
        resource_groups:
          batch:
            ru_per_sec: 0
        tennants: []
        """));
  }
}

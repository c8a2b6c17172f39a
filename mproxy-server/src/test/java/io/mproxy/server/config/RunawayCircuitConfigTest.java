package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.CircuitConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.RunawayRule;
import io.mproxy.core.config.RunawayRule.Action;
import io.mproxy.core.config.RunawayRule.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code circuit:} key of a cluster and the top-level {@code runaway:} rules. */
class RunawayCircuitConfigTest {

  private static final String CLUSTER = """
      clusters:
        main:
          protocol: redis
          backends: [ { address: 127.0.0.1:6379 } ]
      """;

  @Test
  void aClusterCircuitBindsWithDefaultsForOmittedKeys() {
    ProxyConfig c = valid(CLUSTER + "    circuit: { error_rate: 0.25, min_requests: 5, latency_ms: 200, "
        + "window_ms: 2000, open_ms: 1000, half_open_probes: 2, mode: shadow }\n");
    assertEquals(new CircuitConfig(0.25, 5, 200, 2_000, 1_000, 2, CircuitConfig.Mode.SHADOW),
        c.clusters().get("main").circuit());
    assertEquals(CircuitConfig.defaults(), valid(CLUSTER + "    circuit: {}\n").clusters().get("main").circuit());
    assertNull(valid(CLUSTER).clusters().get("main").circuit());
  }

  @Test
  void badCircuitValuesAreLocated() {
    List<String> p = problems(CLUSTER + "    circuit: { error_rate: 1.5, min_requests: 0, mode: maybe, foo: 1 }\n");
    assertEquals(4, p.size(), p.toString());
    assertTrue(p.get(0).startsWith("t.yaml:5:"), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.contains("error_rate: 1.5")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.contains("unknown key 'foo'")), p.toString());
  }

  @Test
  void runawayRulesBind() {
    ProxyConfig c = valid("""
        resource_groups:
          batch: { ru_per_sec: 100 }
        runaway:
          rules:
            - { name: sleepy, match: { fingerprint: 'SELECT pg_sleep($1)' }, elapsed_ms_above: 500, action: cancel }
            - { name: heavy, match: { group: batch }, ru_above: 1000, action: throttle, throttle_ru_per_sec: 50,
                cooldown_ms: 30000, mode: shadow }
            - { name: slow }
        """.replace("- { name: slow }", "- { name: slow, elapsed_ms_above: 2000 }"));
    List<RunawayRule> rules = c.runaway().rules();
    assertEquals(new RunawayRule("sleepy", "SELECT pg_sleep($1)", null, 0, 500, Action.CANCEL, 0,
        RunawayRule.DEFAULT_COOLDOWN_MS, Mode.ENFORCE), rules.get(0));
    assertEquals(new RunawayRule("heavy", null, "batch", 1000, 0, Action.THROTTLE, 50, 30_000, Mode.SHADOW),
        rules.get(1));
    assertEquals(Action.WATCH, rules.get(2).action());
    assertTrue(valid("").runaway().rules().isEmpty());
  }

  @Test
  void runawayRuleProblemsAreLocated() {
    List<String> p = problems("""
        runaway:
          rules:
            - { name: a, action: cancel, match: { fingerprint: x } }
            - { name: a, ru_above: 5, action: throttle }
            - { name: b }
            - { name: c, elapsed_ms_above: 5, match: { group: nope } }
            - { elapsed_ms_above: -1, action: explode }
        """);
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:3:") && x.contains("cancel needs elapsed_ms_above")),
        p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:4:") && x.contains("'a' is already used")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:4:") && x.contains("throttle_ru_per_sec: missing")),
        p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:5:") && x.contains("matches nothing")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:6:") && x.contains("group: 'nope' is not defined")),
        p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:7:") && x.contains("name: missing")), p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:7:") && x.contains("elapsed_ms_above: -1")),
        p.toString());
    assertTrue(p.stream().anyMatch(x -> x.startsWith("t.yaml:7:") && x.contains("explode")), p.toString());
  }
}

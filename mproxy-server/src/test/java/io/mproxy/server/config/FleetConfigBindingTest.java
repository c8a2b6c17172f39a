package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.HostPort;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The top-level {@code cluster:} section (fleet budget sharing). */
class FleetConfigBindingTest {

  @Test
  void withoutTheSectionANodeIsAlone() {
    assertTrue(valid("admin: { bind: 127.0.0.1:9901 }\n").fleet().isEmpty());
  }

  @Test
  void bindsEveryKeyAndDefaultsTheRest() {
    FleetConfig f = valid("""
        cluster:
          bind: 127.0.0.1:7946
          seeds: [127.0.0.1:7947, "[::1]:7948"]
          expected_nodes: 4
        """).fleet().orElseThrow();
    assertEquals(new HostPort("127.0.0.1", 7946), f.bind());
    assertEquals(List.of(new HostPort("127.0.0.1", 7947), new HostPort("::1", 7948)), f.seeds());
    assertEquals(4, f.expectedNodes());
    assertEquals(500, f.gossipIntervalMs());
    assertEquals(2000, f.staleAfterMs());
    assertEquals(0.25, f.fallbackShare(), 1e-12, "default: 1 / expected_nodes");
    assertEquals(0.05, f.shareFloor(), 1e-12);

    FleetConfig g = valid("""
        cluster: { bind: 10.0.0.5:7946, expected_nodes: 3, gossip_interval_ms: 200, stale_after_ms: 900,
                   fallback_share: 0.5, share_floor: 0.1 }
        """).fleet().orElseThrow();
    assertTrue(g.seeds().isEmpty());
    assertEquals(200, g.gossipIntervalMs());
    assertEquals(900, g.staleAfterMs());
    assertEquals(0.5, g.fallbackShare(), 1e-12);
    assertEquals(0.1, g.shareFloor(), 1e-12);
  }

  @Test
  void theStaleTimeDefaultsToAtLeastThreeIntervals() {
    FleetConfig f = valid("cluster: { bind: 127.0.0.1:7946, expected_nodes: 2, gossip_interval_ms: 1000 }\n")
        .fleet().orElseThrow();
    assertEquals(3000, f.staleAfterMs());
  }

  @Test
  void everyProblemIsReportedWhereItIsWritten() {
    assertEquals(List.of(
        "t.yaml:2:3: bind: missing (expected: host:port)",
        "t.yaml:2:3: expected_nodes: missing (expected: >= 1)",
        "t.yaml:2:11: seeds: 'nowhere' (expected: host:port)",
        "t.yaml:2:20: seeds: port 0 (expected: 1..65535)"), problems("""
        cluster:
          seeds: [nowhere, 127.0.0.1:0]
        """));
    assertEquals(List.of(
        "t.yaml:1:18: bind: 0.0.0.0:7946 (expected: an address peers can dial, not a wildcard)",
        "t.yaml:1:59: expected_nodes: 0 (expected: >= 1)",
        "t.yaml:2:28: stale_after_ms: 100 (expected: > gossip_interval_ms, 500)",
        "t.yaml:2:49: fallback_share: 1.5 (expected: > 0 and <= 1)",
        "t.yaml:2:67: share_floor: 1.0 (expected: > 0 and < 1)",
        "t.yaml:2:70: unknown key 'gossip' (expected one of: bind, seeds, expected_nodes, gossip_interval_ms, "
            + "stale_after_ms, fallback_share, share_floor)"), problems("""
        cluster: { bind: 0.0.0.0:7946, seeds: [], expected_nodes: 0,
                   stale_after_ms: 100, fallback_share: 1.5, share_floor: 1, gossip: 1 }
        """));
  }

  @Test
  void bindSeedsAndIntervalNeedARestartTheOtherKeysDoNot() {
    FleetConfig a = valid("cluster: { bind: 127.0.0.1:7946, expected_nodes: 3 }\n").fleet().orElseThrow();
    FleetConfig live = valid("cluster: { bind: 127.0.0.1:7946, expected_nodes: 5, stale_after_ms: 4000, "
        + "fallback_share: 0.1, share_floor: 0.2 }\n").fleet().orElseThrow();
    assertFalse(a.needsRestartFor(live));
    assertTrue(a.needsRestartFor(valid("cluster: { bind: 127.0.0.1:7947, expected_nodes: 3 }\n").fleet().orElseThrow()));
    assertTrue(a.needsRestartFor(valid("cluster: { bind: 127.0.0.1:7946, expected_nodes: 3, seeds: [127.0.0.1:1] }\n")
        .fleet().orElseThrow()));
    assertTrue(a.needsRestartFor(valid("cluster: { bind: 127.0.0.1:7946, expected_nodes: 3, gossip_interval_ms: 100 }\n")
        .fleet().orElseThrow()));
  }
}

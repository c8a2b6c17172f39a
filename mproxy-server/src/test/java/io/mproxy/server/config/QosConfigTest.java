package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.Mode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The QoS keys: top-level and per-group {@code codel:}, and a group's {@code mode:}. */
class QosConfigTest {

  @Test
  void topLevelCodelWithAGateBinds() {
    ProxyConfig c = valid("""
        codel: { target_ms: 5, interval_ms: 100, max_inflight: 16, max_queued: 500, max_wait_ms: 800 }
        """);
    assertEquals(Optional.of(new CodelConfig(5, 100, 16, 500, 800)), c.codel());
  }

  @Test
  void queueShardsBindWithAHandOfTwoByDefault() {
    assertEquals(Optional.of(new CodelConfig(5, 100, 16, 10_000, 1_000, 8, 2)),
        valid("codel: { max_inflight: 16, queue_shards: 8 }\n").codel());
    assertEquals(Optional.of(new CodelConfig(5, 100, 16, 10_000, 1_000, 8, 3)),
        valid("codel: { max_inflight: 16, queue_shards: 8, queue_hand_size: 3 }\n").codel());
  }

  @Test
  void reserveHighBindsAndMustLeaveASlotForTheOthers() {
    assertEquals(Optional.of(new CodelConfig(5, 100, 4, 10_000, 1_000, 1, 1, 1)),
        valid("codel: { max_inflight: 4, reserve_high: 1 }\n").codel());
    assertEquals(0, valid("codel: { max_inflight: 4 }\n").codel().orElseThrow().reserveHigh());
    List<String> tooMany = problems("codel: { max_inflight: 4, reserve_high: 4 }\n");
    assertEquals(1, tooMany.size(), tooMany.toString());
    assertTrue(tooMany.get(0).contains("reserve_high"), tooMany.toString());
    List<String> noGate = problems("codel: { reserve_high: 1 }\n");
    assertEquals(1, noGate.size(), noGate.toString());
    assertTrue(noGate.get(0).contains("reserve_high"), noGate.toString());
    assertEquals(1, problems("resource_groups: { g: { ru_per_sec: 1, codel: { reserve_high: 1 } } }\n").size(),
        "a group's codel has no gate to reserve in");
  }

  @Test
  void codelKeysDefault() {
    assertEquals(Optional.of(new CodelConfig(5, 100)), valid("codel: {}\n").codel());
    assertEquals(Optional.empty(), valid("").codel());
  }

  @Test
  void aGroupHasItsOwnCodelAndMode() {
    ResourceGroupConfig g = valid("""
        resource_groups:
          batch: { ru_per_sec: 100, priority: low, mode: shadow, codel: { target_ms: 20, interval_ms: 200 } }
          web: { ru_per_sec: 100 }
        """).resourceGroups().get("batch");
    assertEquals(new CodelConfig(20, 200), g.codel());
    assertEquals(Mode.SHADOW, g.mode());
    ResourceGroupConfig web = valid("resource_groups: { web: { ru_per_sec: 100 } }\n").resourceGroups().get("web");
    assertNull(web.codel());
    assertEquals(Mode.ENFORCE, web.mode());
  }

  @Test
  void theGateKeysBelongToTheTopLevelOnly() {
    List<String> p = problems("""
        resource_groups:
          g: { ru_per_sec: 100, codel: { max_inflight: 4 } }
        """);
    assertEquals(1, p.size(), p.toString());
    assertTrue(p.get(0).contains("unknown key 'max_inflight'"), p.toString());
  }

  @Test
  void badValuesAreLocatedProblems() {
    List<String> p = problems("""
        codel: { target_ms: 0, max_inflight: -1 }
        resource_groups:
          g: { ru_per_sec: 100, mode: dryrun }
        """);
    assertEquals(3, p.size(), p.toString());
  }
}

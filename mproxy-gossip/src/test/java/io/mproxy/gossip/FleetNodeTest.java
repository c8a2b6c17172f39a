package io.mproxy.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.admission.ResourceGroups;
import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.share.ShareMode;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three real scalecube nodes on loopback, each with its own groups, sharing 3,000 RU/s. No load,
 * so the split is even; what is under test is membership, the report exchange and the fail-safe.
 */
class FleetNodeTest {

  private static final Duration CONVERGE = Duration.ofSeconds(20);
  private static final double EPS = 1e-6;

  private final RealTime time = new RealTime();
  private final List<FleetNode> nodes = new ArrayList<>();
  private final List<ResourceGroups> groups = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(FleetNode::close);
    time.close();
  }

  private void startFleet() {
    int seedPort = FreePort.loopback();
    for (int i = 0; i < 3; i++) {
      int port = i == 0 ? seedPort : FreePort.loopback();
      FleetConfig cfg = new FleetConfig(new HostPort("127.0.0.1", port),
          i == 0 ? List.of() : List.of(new HostPort("127.0.0.1", seedPort)), 3, 100, 600, 1.0 / 3, 0.05);
      ResourceGroups g = new ResourceGroups(time, Map.of("g",
          new ResourceGroupConfig("g", 3000, 3000, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 3000)));
      groups.add(g);
      nodes.add(FleetNode.start(cfg, g, time, time));
    }
  }

  private double share(int i) {
    return groups.get(i).get("g").shareRuPerSec();
  }

  private ShareMode mode(int i) {
    return nodes.get(i).snapshot().groups().get("g").share().mode();
  }

  private int live(int i) {
    return nodes.get(i).snapshot().groups().get("g").share().liveMembers();
  }

  private void assertEvenSplit(int... which) {
    for (int i : which) {
      assertEquals(ShareMode.SHARED, mode(i), "node " + i);
      assertEquals(which.length, live(i), "node " + i);
      assertEquals(3000.0 / which.length, share(i), EPS, "node " + i);
    }
  }

  @Test
  void threeNodesJoinThroughTheSeedAndSplitTheLimit() {
    startFleet();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
    Eventually.assertWithin(CONVERGE, () -> {
      for (FleetNode n : nodes) {
        assertEquals(3, n.members().size(), n.members().toString());
      }
    });
    assertEquals(Set.copyOf(nodes.get(0).members()), Set.copyOf(nodes.get(2).members()));
  }

  @Test
  void aNodeThatLeavesHasItsShareRedistributedAndFallsBackItself() {
    startFleet();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));

    nodes.get(2).disconnect();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1));
    Eventually.assertWithin(CONVERGE, () -> {
      assertEquals(ShareMode.FALLBACK, mode(2));
      assertEquals(1000, share(2), EPS, "never zero, never the whole limit");
    });

    nodes.get(2).reconnect();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
  }

  @Test
  void cuttingEveryLinkPutsEveryNodeOnItsFallbackAndHealingConvergesAgain() {
    startFleet();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));

    nodes.forEach(n -> n.linkFilter((from, to) -> false));
    Eventually.assertWithin(CONVERGE, () -> {
      for (int i = 0; i < 3; i++) {
        assertEquals(ShareMode.FALLBACK, mode(i), "node " + i);
        assertEquals(1000, share(i), EPS);
      }
    });
    assertEquals(3, nodes.get(0).members().size(), "SWIM still sees everyone: only the reports are cut");

    nodes.forEach(n -> n.linkFilter(LinkFilter.OPEN));
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
  }

  @Test
  void garbageOnTheGossipPortChangesNothing() throws Exception {
    startFleet();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
    String address = nodes.get(0).address().orElseThrow();
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    Random random = new Random(7);
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        byte[] junk = new byte[1 + random.nextInt(4096)];
        random.nextBytes(junk);
        if (i % 2 == 0) { // a frame header announcing far more than the frame limit
          junk[0] = 0x7f;
        }
        s.getOutputStream().write(junk);
        s.getOutputStream().flush();
      }
    }
    ShareReportCodec codec = new ShareReportCodec();
    assertTrue(codec.decode("{\"v\":1,\"node\":\"x\",\"seq\":1,\"groups\":{\"g\":{\"d\":1e400,\"s\":1}}}").isEmpty(),
        "an overflowing number is refused, not taken as infinity");
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
    assertEquals(3, nodes.get(0).members().size());
  }

  @Test
  void aMinorityCutOffFallsBackWhileTheMajoritySplitsBetweenItself() {
    startFleet();
    Eventually.assertWithin(CONVERGE, () -> assertEvenSplit(0, 1, 2));
    String isolated = nodes.get(0).name();
    LinkFilter cut = (from, to) -> !from.equals(isolated) && !to.equals(isolated);
    nodes.forEach(n -> n.linkFilter(cut));
    Eventually.assertWithin(CONVERGE, () -> {
      assertEquals(ShareMode.FALLBACK, mode(0));
      assertEquals(1000, share(0), EPS);
      assertEvenSplit(1, 2);
    });
    assertTrue(share(0) + share(1) + share(2) <= 3000 * (1 + 1.0 / 3) + EPS,
        "a partition overshoots by at most the minority's fallback");
  }
}

package io.mproxy.core.share;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShareCalculatorTest {

  private static final long MS = 1_000_000L;
  private static final long STALE = 1_000 * MS;
  private static final long NOW = 10_000 * MS;

  private final ShareCalculator calc = new ShareCalculator(ShareSettings.of(STALE, 3));

  private static PeerReport fresh(String node, double demand, double share) {
    return new PeerReport(node, demand, share, NOW - 100 * MS);
  }

  @Test
  void withNoPeersANodeFallsBackToTheLimitOverExpectedNodes() {
    Share s = calc.compute(3000, 5000, List.of(), NOW);
    assertEquals(ShareMode.FALLBACK, s.mode());
    assertEquals(1000, s.ruPerSec(), 1e-9);
    assertEquals(1, s.liveMembers());
  }

  @Test
  void anExplicitFallbackFractionIsUsed() {
    ShareCalculator c = new ShareCalculator(new ShareSettings(STALE, 3, 0.5, 0.05));
    assertEquals(1500, c.compute(3000, 0, List.of(), NOW).ruPerSec(), 1e-9);
  }

  @Test
  void stalePeersDropOutAndAllStaleMeansFallback() {
    PeerReport stale = new PeerReport("b", 1000, 1000, NOW - STALE - 1);
    Share s = calc.compute(3000, 1000, List.of(stale), NOW);
    assertEquals(ShareMode.FALLBACK, s.mode());
    assertEquals(1000, s.ruPerSec(), 1e-9);

    PeerReport justInTime = new PeerReport("b", 1000, 1000, NOW - STALE);
    assertEquals(ShareMode.SHARED, calc.compute(3000, 1000, List.of(justInTime), NOW).mode());
  }

  @Test
  void aStalePeerIsNotCountedAmongTheLiveMembers() {
    PeerReport stale = new PeerReport("c", 5000, 2000, NOW - 2 * STALE);
    Share s = calc.compute(3000, 1000, List.of(fresh("b", 1000, 1500), stale), NOW);
    assertEquals(2, s.liveMembers());
    assertEquals(1500, s.ruPerSec(), 1e-9, "equal demand of two live nodes: half each");
  }

  @Test
  void demandSplitsTheLimitProportionallyAboveTheFloor() {
    // a: 1000, b: 2000, c: idle. Floors: 0.05 * 3000 / 3 = 50 each; 2850 split 1:2.
    double a = calc.compute(3000, 1000, List.of(fresh("b", 2000, 1950), fresh("c", 0, 50)), NOW).ruPerSec();
    double b = calc.compute(3000, 2000, List.of(fresh("a", 1000, 1000), fresh("c", 0, 50)), NOW).ruPerSec();
    double c = calc.compute(3000, 0, List.of(fresh("a", 1000, 1000), fresh("b", 2000, 1950)), NOW).ruPerSec();
    assertEquals(50 + 950, a, 1e-9);
    assertEquals(50 + 1900, b, 1e-9);
    assertEquals(50, c, 1e-9, "an idle node keeps its floor so it can start");
    assertEquals(3000, a + b + c, 1e-9);
  }

  @Test
  void nobodyAskingMeansAnEvenSplit() {
    Share s = calc.compute(3000, 0, List.of(fresh("b", 0, 1000), fresh("c", 0, 1000)), NOW);
    assertEquals(1000, s.ruPerSec(), 1e-9);
    assertEquals(3, s.liveMembers());
  }

  @Test
  void aNodeNeverTakesWhatPeersStillAdvertiseButKeepsItsFloor() {
    // b still enforces 2500 (old demand); a's target is far higher but only 500 is left over.
    Share s = calc.compute(3000, 5000, List.of(fresh("b", 1, 2500)), NOW);
    assertEquals(500, s.ruPerSec(), 1e-9);
    // peers over-committed after a heal: the floor (0.05 * 3000 / 3) still holds
    Share floor = calc.compute(3000, 5000, List.of(fresh("b", 1, 2000), fresh("c", 1, 2000)), NOW);
    assertEquals(50, floor.ruPerSec(), 1e-9);
  }

  @Test
  void insaneReportsAreIgnored() {
    Share s = calc.compute(3000, 100, List.of(new PeerReport("b", Double.NaN, 10, NOW),
        new PeerReport("c", -1, 10, NOW)), NOW);
    assertEquals(ShareMode.FALLBACK, s.mode());
  }

  @Test
  void rejectsANonPositiveLimit() {
    assertThrows(IllegalArgumentException.class, () -> calc.compute(0, 1, List.of(), NOW));
    assertThrows(IllegalArgumentException.class, () -> calc.compute(Double.POSITIVE_INFINITY, 1, List.of(), NOW));
  }

  @Test
  void settingsAreRangeChecked() {
    assertThrows(IllegalArgumentException.class, () -> new ShareSettings(0, 3, 0.3, 0.05));
    assertThrows(IllegalArgumentException.class, () -> new ShareSettings(STALE, 0, 0.3, 0.05));
    assertThrows(IllegalArgumentException.class, () -> new ShareSettings(STALE, 3, 0, 0.05));
    assertThrows(IllegalArgumentException.class, () -> new ShareSettings(STALE, 3, 1.5, 0.05));
    assertThrows(IllegalArgumentException.class, () -> new ShareSettings(STALE, 3, 0.3, 1));
  }

  /**
   * Rounds of a fleet where every node hears every other's previous round: from any start
   * (e.g. everybody on fallback after a heal), shares settle on the demand-proportional targets,
   * their sum converges to the limit, and after the first round never exceeds it.
   */
  @Test
  void aFleetConvergesToTheLimitFromAnyStart() {
    Random random = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      int n = 2 + random.nextInt(30);
      double limit = 100 + random.nextInt(100_000);
      ShareCalculator c = new ShareCalculator(ShareSettings.of(STALE, n));
      double[] demand = new double[n];
      double[] share = new double[n];
      for (int i = 0; i < n; i++) {
        demand[i] = random.nextInt(4) == 0 ? 0 : random.nextDouble() * limit * 2;
        share[i] = random.nextDouble() * limit;
      }
      for (int round = 0; round < 6; round++) {
        double[] next = new double[n];
        for (int i = 0; i < n; i++) {
          next[i] = c.compute(limit, demand[i], peersOf(i, demand, share), NOW).ruPerSec();
          assertTrue(next[i] > 0, "never zero");
        }
        share = next;
        if (round >= 1) {
          assertTrue(sum(share) <= limit * (1 + 1e-9) + limit * 0.05,
              "round " + round + ": " + sum(share) + " > " + limit);
        }
      }
      assertEquals(limit, sum(share), limit * 1e-9, "trial " + trial + " n=" + n);
      double totalDemand = sum(demand);
      for (int i = 0; i < n; i++) {
        double floor = 0.05 * limit / n;
        double expected = totalDemand > 0 ? floor + (limit - floor * n) * demand[i] / totalDemand : limit / n;
        assertEquals(expected, share[i], limit * 1e-9);
      }
    }
  }

  private static List<PeerReport> peersOf(int self, double[] demand, double[] share) {
    List<PeerReport> peers = new ArrayList<>();
    for (int j = 0; j < demand.length; j++) {
      if (j != self) {
        peers.add(fresh("n" + j, demand[j], share[j]));
      }
    }
    return peers;
  }

  private static double sum(double[] xs) {
    double s = 0;
    for (double x : xs) {
      s += x;
    }
    return s;
  }
}

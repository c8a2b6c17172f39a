package io.mproxy.gossip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.admission.ResourceGroups;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.share.ShareMode;
import io.mproxy.core.share.ShareSettings;
import io.mproxy.core.time.ManualClock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The exchange without networking, in virtual time: 3,000 RU/s shared by up to three nodes. */
class FleetSharesTest {

  private static final double EPS = 1e-6;
  private static final long MS = 1_000_000L;

  private final ManualClock clock = new ManualClock();
  private final ResourceGroups groups = new ResourceGroups(clock,
      Map.of("g", new ResourceGroupConfig("g", 3000, 3000, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 3000)));
  private final FleetShares shares = new FleetShares("a", groups, clock, ShareSettings.of(1_000 * MS, 3));

  private ResourceGroup g() {
    return groups.get("g");
  }

  private static ShareReport report(String node, long seq, double demand, double share) {
    return new ShareReport(node, seq, Map.of("g", new ShareReport.GroupFigures(demand, share)));
  }

  @Test
  void aNodeThatKnowsNoPeerEnforcesTheFallbackNotTheWholeLimit() {
    ShareReport mine = shares.round();
    assertEquals(1000, g().shareRuPerSec(), EPS);
    assertEquals(1000, g().bucket().ratePerSec(), EPS);
    assertEquals(1000, mine.groups().get("g").share(), EPS);
    assertEquals(ShareMode.FALLBACK, shares.snapshot().groups().get("g").share().mode());
    assertEquals(1, mine.seq());
    assertEquals(2, shares.round().seq());
  }

  @Test
  void livePeersSplitTheLimitAndAStalePeerDropsOut() {
    shares.accept(report("b", 1, 0, 1000));
    shares.accept(report("c", 1, 0, 1000));
    shares.round();
    assertEquals(1000, g().shareRuPerSec(), EPS, "no demand anywhere: an even split");
    assertEquals(3, shares.snapshot().groups().get("g").share().liveMembers());

    clock.advanceMillis(600);
    shares.accept(report("b", 2, 0, 1000));
    clock.advanceMillis(600); // c last heard 1,200 ms ago: stale
    shares.round();
    assertEquals(1500, g().shareRuPerSec(), EPS, "c's share is redistributed");
    assertFalse(shares.snapshot().peers().stream().filter(p -> p.node().equals("c")).findFirst().get().live());

    clock.advanceMillis(600); // b stale too
    shares.round();
    assertEquals(1000, g().shareRuPerSec(), EPS, "nobody live: back to the fallback");
    assertEquals(ShareMode.FALLBACK, shares.snapshot().groups().get("g").share().mode());
  }

  @Test
  void demandIsWhatAdmissionWasAskedForAndItDrivesTheShare() {
    Gateway gw = new Gateway(new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(), Map.of(),
        Map.of("g", new ResourceGroupConfig("g", 3000, 3000, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 3000)),
        List.of()), clock, Telemetry.NOOP, new FingerprintStore(100));
    FleetShares a = new FleetShares("a", gw.groups(), clock, ShareSettings.of(1_000 * MS, 3));
    a.round();
    for (int second = 0; second < 5; second++) {
      for (int i = 0; i < 2000; i++) { // 2,000 reads of 1 RU per second, some of them refused
        Request req = new Request(new TenantIdentity("l", "u", "d", "app"), RequestKind.READ, "GET", null, 10,
            clock.nanoTime(), false);
        gw.admit(req, new Classification("g", Priority.NORMAL, false, 0), new Origin("l", "redis"),
            RuWeights.DEFAULT, null, new AdmissionCallback() {
              @Override
              public void admitted(Ticket ticket) {
              }

              @Override
              public void refused(Refusal refusal) {
              }
            });
        clock.advanceNanos(500_000);
      }
      a.accept(report("b", second + 1, 1000, 1000));
      a.round();
    }
    double demand = a.snapshot().groups().get("g").demandRuPerSec();
    assertEquals(2000, demand, 2000 * 0.02, "refused requests count: demand is what was asked");
    // demand 2,000 vs b's 1,000: 2/3 of what is above the floors (2 x 75) once b gives way
    double expected = 75 + 2850 * demand / (demand + 1000);
    assertEquals(Math.min(expected, 3000 - 1000), gw.groups().get("g").shareRuPerSec(), 1e-6,
        "b still advertises 1,000, so a takes at most the 2,000 left over");
    a.accept(report("b", 99, 1000, 3000 - expected));
    a.round();
    assertEquals(expected, gw.groups().get("g").shareRuPerSec(), 10);
  }

  @Test
  void anOlderOrDuplicateReportNeverOverwritesANewerOne() {
    shares.accept(report("b", 5, 0, 2900));
    shares.accept(report("b", 4, 0, 10));
    shares.accept(report("b", 5, 0, 10));
    shares.round();
    assertEquals(100, g().shareRuPerSec(), EPS, "b still holds 2,900: only 100 is left over");
  }

  @Test
  void ownReportsAreIgnoredAndAForgottenPeerStopsCountingAtOnce() {
    shares.accept(report("a", 99, 0, 3000));
    shares.accept(report("b", 1, 0, 1500));
    shares.round();
    assertEquals(1500, g().shareRuPerSec(), EPS);
    shares.forget("b");
    shares.round();
    assertEquals(1000, g().shareRuPerSec(), EPS);
    assertTrue(shares.snapshot().peers().isEmpty());
  }

  @Test
  void reloadedSettingsApplyFromTheNextRound() {
    shares.round();
    shares.settings(new ShareSettings(1_000 * MS, 4, 0.5, 0.05));
    shares.round();
    assertEquals(1500, g().shareRuPerSec(), EPS);
  }

  @Test
  void aReportForAGroupThisNodeDoesNotHaveIsIgnored() {
    shares.accept(new ShareReport("b", 1, Map.of("other", new ShareReport.GroupFigures(5, 5))));
    shares.round();
    assertEquals(ShareMode.FALLBACK, shares.snapshot().groups().get("g").share().mode());
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.time.ManualClock;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ResourceGroupsTest {

  private static final double EPS = 1e-9;
  private static final String DEFAULT = ResourceGroupConfig.DEFAULT_GROUP;

  private final ManualClock clock = new ManualClock();

  @Test
  void reconfiguresAGroupInPlaceKeepingItsBalance() {
    ResourceGroupConfig d = group(DEFAULT, 100, 100);
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 10, 10), DEFAULT, d));
    ResourceGroup a = groups.get("a");
    assertEquals(TokenBucket.GRANTED, a.bucket().acquire(6, 0));

    Set<String> changed = groups.apply(Map.of("a", group("a", 20, 30), DEFAULT, d));

    assertEquals(Set.of("a"), changed);
    assertSame(a, groups.get("a"), "the same live group, so sessions holding it see the new limit");
    assertEquals(20.0, a.bucket().ratePerSec(), EPS);
    assertEquals(30.0, a.bucket().capacity(), EPS);
    assertEquals(4.0, a.bucket().tokens(), EPS, "a reload neither refills nor empties");
    assertEquals(20.0, a.shareRuPerSec(), EPS);
    assertEquals(30.0, a.config().burst(), EPS);
  }

  @Test
  void aShareScalesRateBurstAndDebtAndIsCappedAtTheLimit() {
    ResourceGroups groups = new ResourceGroups(clock,
        Map.of("a", new ResourceGroupConfig("a", 3000, 600, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 300)));
    ResourceGroup a = groups.get("a");
    a.share(1000);
    assertEquals(1000.0, a.shareRuPerSec(), EPS);
    assertEquals(1000.0, a.bucket().ratePerSec(), EPS);
    assertEquals(200.0, a.bucket().capacity(), EPS);
    a.share(9000);
    assertEquals(3000.0, a.shareRuPerSec(), EPS, "never more than the global limit");
    assertThrows(IllegalArgumentException.class, () -> a.share(0));
  }

  @Test
  void aReloadKeepsTheSharedFractionOfTheNewLimit() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 3000, 3000)));
    ResourceGroup a = groups.get("a");
    a.share(1000);
    groups.apply(Map.of("a", group("a", 6000, 6000)));
    assertEquals(2000.0, a.shareRuPerSec(), EPS, "a third before, a third after");
    assertEquals(2000.0, a.bucket().capacity(), EPS);
    a.unshare();
    assertEquals(6000.0, a.shareRuPerSec(), EPS);
    assertEquals(6000.0, a.bucket().ratePerSec(), EPS);
  }

  @Test
  void shrinkingTheBurstClampsTheBalance() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 10, 10)));
    groups.apply(Map.of("a", group("a", 10, 3)));
    assertEquals(3.0, groups.get("a").bucket().tokens(), EPS);
  }

  @Test
  void reconfiguringKeepsCounters() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 10, 10)));
    ResourceGroup a = groups.get("a");
    a.countAdmitted();
    a.countCharged(5);
    groups.apply(Map.of("a", group("a", 50, 10)));
    assertEquals(1, groups.get("a").admittedTotal());
    assertEquals(5.0, groups.get("a").ruChargedTotal(), EPS);
  }

  @Test
  void anUnchangedConfigChangesNothing() {
    Map<String, ResourceGroupConfig> configs = Map.of(
        "a", group("a", 10, 10), DEFAULT, group(DEFAULT, 100, 100));
    ResourceGroups groups = new ResourceGroups(clock, configs);
    ResourceGroup a = groups.get("a");
    ResourceGroup d = groups.get(DEFAULT);
    assertEquals(Set.of(), groups.apply(Map.of("a", group("a", 10, 10), DEFAULT, group(DEFAULT, 100, 100))));
    assertSame(a, groups.get("a"));
    assertSame(d, groups.get(DEFAULT));
  }

  @Test
  void addsNewGroupsAndDropsRemovedOnes() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 10, 10)));
    Set<String> changed = groups.apply(Map.of("b", group("b", 5, 5)));
    assertTrue(changed.containsAll(Set.of("a", "b")), changed.toString());
    assertEquals("b", groups.get("b").name());
    assertEquals(5.0, groups.get("b").bucket().tokens(), EPS, "a new group starts full");
    assertEquals(DEFAULT, groups.get("a").name(), "a removed group's name now means the default group");
    assertEquals(Set.of("b", DEFAULT), names(groups));
  }

  @Test
  void theDefaultGroupIsAlwaysPresent() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of());
    assertNotNull(groups.get(DEFAULT));
    assertEquals(Set.of(DEFAULT), names(groups));
    assertEquals(DEFAULT, groups.get(null).name());
    assertEquals(DEFAULT, groups.get("unknown").name());

    groups.apply(Map.of("a", group("a", 1, 1)));
    assertEquals(Set.of("a", DEFAULT), names(groups));
    groups.apply(Map.of());
    assertEquals(Set.of(DEFAULT), names(groups));
  }

  @Test
  void theImplicitDefaultGroupIsUnlimited() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of());
    TokenBucket b = groups.get(DEFAULT).bucket();
    for (int i = 0; i < 1_000; i++) {
      assertEquals(TokenBucket.GRANTED, b.acquire(1e6, 0));
    }
  }

  /**
   * A config without a {@code default} group gets the implicit unlimited one. Reloading that same
   * config must keep it like any other group: same object (in-flight tickets and the tick loop
   * keep charging it), counters kept, not reported as changed.
   */
  @Test
  void theImplicitDefaultGroupSurvivesAReloadOfTheSameConfig() {
    Map<String, ResourceGroupConfig> configs = Map.of("a", group("a", 10, 10));
    ResourceGroups groups = new ResourceGroups(clock, configs);
    ResourceGroup d = groups.get(DEFAULT);
    d.countAdmitted();
    d.countCharged(7);

    Set<String> changed = groups.apply(configs);

    assertEquals(Set.of(), changed, "nothing changed");
    assertSame(d, groups.get(DEFAULT), "the default group was dropped and recreated");
    assertEquals(1, groups.get(DEFAULT).admittedTotal());
    assertEquals(7.0, groups.get(DEFAULT).ruChargedTotal(), EPS);
  }

  @Test
  void aConfiguredDefaultGroupReplacesTheImplicitOneAndIsReconfiguredInPlace() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of(DEFAULT, group(DEFAULT, 2, 2)));
    ResourceGroup d = groups.get(DEFAULT);
    assertEquals(2.0, d.bucket().capacity(), EPS);
    groups.apply(Map.of(DEFAULT, group(DEFAULT, 4, 8)));
    assertSame(d, groups.get(DEFAULT));
    assertEquals(2.0, d.bucket().tokens(), EPS);
    assertEquals(8.0, d.bucket().capacity(), EPS);
  }

  @Test
  void tickChargesOnlyGroupsWithLatencyInFlight() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of(
        "a", group("a", 1e-9, 1_000), "b", group("b", 1e-9, 1_000)));
    long startNanos = clock.nanoTime();
    long start = groups.get("a").startInflight(0.5, startNanos);
    clock.advanceMillis(100);
    groups.tick();
    clock.advanceMillis(100);
    groups.tick();
    assertEquals(100.0, groups.get("a").ruChargedTotal(), EPS);
    assertEquals(900.0, groups.get("a").bucket().tokens(), 1e-6);
    assertEquals(0.0, groups.get("b").ruChargedTotal(), EPS);
    assertEquals(100.0, groups.get("a").endInflight(0.5, startNanos, start), EPS,
        "latency RU the ticks charged while in flight");
    clock.advanceMillis(100);
    groups.tick();
    assertEquals(100.0, groups.get("a").ruChargedTotal(), EPS, "nothing in flight any more");
  }

  @Test
  void aTickChargesOnlyTheTimeARequestSpentInFlightSinceItStarted() {
    ResourceGroups groups = new ResourceGroups(clock, Map.of("a", group("a", 1e-9, 1_000)));
    ResourceGroup a = groups.get("a");
    clock.advanceMillis(90);
    long startNanos = clock.nanoTime();
    long start = a.startInflight(0.5, startNanos);
    clock.advanceMillis(10);
    groups.tick();
    assertEquals(5.0, a.ruChargedTotal(), EPS, "10 ms in flight at 0.5 RU/ms, not a whole tick");
    clock.advanceMillis(1);
    assertEquals(5.0, a.endInflight(0.5, startNanos, start), EPS);
  }

  private static Set<String> names(ResourceGroups groups) {
    return groups.all().stream().map(ResourceGroup::name).collect(Collectors.toSet());
  }

  private static ResourceGroupConfig group(String name, double rate, double burst) {
    return new ResourceGroupConfig(name, rate, burst, Priority.NORMAL, OnExhausted.REJECT, 0, 0, burst);
  }
}

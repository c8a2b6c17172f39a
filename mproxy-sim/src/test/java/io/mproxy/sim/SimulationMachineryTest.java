package io.mproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.fault.FaultInjection;
import io.mproxy.core.fault.FaultPoint;
import io.mproxy.core.fault.Faults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pieces under the scenarios: event order, random streams, histograms, fault points, invariants. */
class SimulationMachineryTest {

  @Test
  void eventsRunInTimeOrderThenInSchedulingOrder() {
    VirtualTime t = new VirtualTime();
    List<String> seen = new ArrayList<>();
    t.schedule(() -> seen.add("b@5"), 5);
    t.schedule(() -> seen.add("a@1"), 1);
    t.schedule(() -> seen.add("c@5"), 5);
    var cancelled = t.schedule(() -> seen.add("never"), 3);
    cancelled.cancel();
    t.scheduleAtFixedRate(() -> seen.add("tick@" + t.nanoTime()), 4);
    t.runUntil(9);
    assertEquals(List.of("a@1", "tick@4", "b@5", "c@5", "tick@8"), seen);
    assertEquals(9, t.nanoTime());
  }

  @Test
  void derivedStreamsAreStableAndIndependent() {
    SimRandom root = new SimRandom(99);
    long a1 = root.derive("a").nextLong();
    root.derive("b").nextLong();
    assertEquals(a1, new SimRandom(99).derive("a").nextLong());
    assertNotEquals(a1, root.derive("b").nextLong());
    assertNotEquals(a1, new SimRandom(100).derive("a").nextLong());
    SimRandom r = new SimRandom(1);
    double sum = 0;
    for (int i = 0; i < 100_000; i++) {
      sum += r.exponential(2.0);
    }
    assertEquals(2.0, sum / 100_000, 0.05);
  }

  @Test
  void histogramQuantilesAreWithinThreePercent() {
    LatencyHistogram h = new LatencyHistogram();
    for (int v = 1; v <= 100_000; v++) {
      h.record(v);
    }
    assertEquals(50_000, h.quantileMicros(0.5), 50_000 * 0.035);
    assertEquals(99_000, h.quantileMicros(0.99), 99_000 * 0.035);
    assertEquals(0, new LatencyHistogram().quantileMicros(0.99));
  }

  @Test
  void faultPointsAreOffUnlessArmedAndDisarmOnClose() {
    for (FaultPoint p : Faults.all()) {
      assertFalse(p.armed(), p.name());
      assertFalse(p.fires(), p.name());
    }
    assertEquals(0, Faults.queueWakeDelayNanos());
    try (FaultInjection f = FaultInjection.arm(Map.of(Faults.POOL_OPEN_FAILS, 1.0), new SimRandom(3))) {
      assertTrue(Faults.POOL_OPEN_FAILS.fires());
      assertFalse(Faults.GOSSIP_DROPPED.fires());
      assertThrows(IllegalStateException.class, () -> FaultInjection.arm(Map.of(), new SimRandom(4)));
    }
    assertFalse(Faults.POOL_OPEN_FAILS.fires());
  }

  @Test
  void armedFaultPointsFireInsideARun() {
    SimConfig base = Scenarios.byName("backend-crash").orElseThrow().config(5);
    SimConfig faulty = new SimConfig(base.name(), base.seed(), 5_000, base.drainMs(), base.sampleMs(),
        base.nodes(), base.backends(), base.groups(), base.tenants(), base.proxy(), base.gossip(),
        Map.of(Faults.SETTLE_DELAYED, 0.5, Faults.RU_TICK_SKIPPED, 0.5, Faults.QUEUE_WAKE_LATE, 0.5));
    SimResult r = new Simulation(faulty).run();
    assertEquals(0, r.invariants().violations(), String.valueOf(r.invariants().firstViolations()));
    SimResult clean = new Simulation(new SimConfig(base.name(), base.seed(), 5_000, base.drainMs(), base.sampleMs(),
        base.nodes(), base.backends(), base.groups(), base.tenants(), base.proxy(), base.gossip(), Map.of())).run();
    assertNotEquals(clean.logHash(), r.logHash(), "the faults changed the run");
  }

  @Test
  void aRunCutShortReportsRequestsLostWithoutAnAnswer() {
    SimConfig base = Scenarios.byName("slow-backend").orElseThrow().config(5);
    SimConfig noDrain = new SimConfig(base.name(), base.seed(), 6_000, 0, base.sampleMs(), base.nodes(),
        base.backends(), base.groups(), base.tenants(), base.proxy(), base.gossip(), base.faults());
    SimResult r = new Simulation(noDrain).run();
    assertTrue(r.invariants().violations() > 0, "the check must see attempts still in flight");
    assertTrue(r.invariants().firstViolations().stream().anyMatch(v -> v.contains("lost without an answer")),
        String.valueOf(r.invariants().firstViolations()));
  }

  @Test
  void noisyNeighbourBoundsBreakWhenTheFloodIsNotLimited() {
    Scenarios.NoisyNeighbour nn = new Scenarios.NoisyNeighbour();
    SimConfig c = nn.config(1);
    List<SimConfig.GroupSpec> unlimited = c.groups().stream()
        .map(g -> g.config().name().equals("batch")
            ? Scenarios.local(Scenarios.reject("batch", 1e9, 1e9)) : g)
        .toList();
    SimResult r = new Simulation(new SimConfig(c.name(), c.seed(), 6_000, c.drainMs(), c.sampleMs(),
        c.nodes(), c.backends(), unlimited, c.tenants(), c.proxy().withCodel(null), c.gossip(), c.faults())).run();
    List<String> failed = nn.checks(r, 1).stream().filter(k -> k.asserted() && !k.passed()).map(Check::name)
        .toList();
    assertTrue(failed.contains("checkout p99 with the flood"), "failed: " + failed);
    assertTrue(failed.contains("checkout and search never fail"), "failed: " + failed);
  }

  /**
   * Without the priority gate, the flood's first burst (admitted at once: its group allows it)
   * queues in the pool ahead of the HIGH tenant, so HIGH's p99 misses 1.5x of alone; with the
   * gate (the scenario as configured, seed 1) it meets it. Same seed, only the gate differs.
   */
  @Test
  void noisyNeighbourMeetsItsP99GoalOnlyWithThePriorityGate() {
    Scenarios.NoisyNeighbour nn = new Scenarios.NoisyNeighbour();
    SimConfig c = nn.config(1);
    SimResult r = new Simulation(new SimConfig(c.name(), c.seed(), c.durationMs(), c.drainMs(), c.sampleMs(),
        c.nodes(), c.backends(), c.groups(), c.tenants(), c.proxy().withCodel(null), c.gossip(), c.faults())).run();
    List<String> failed = nn.checks(r, 1).stream().filter(k -> k.asserted() && !k.passed()).map(Check::name)
        .toList();
    assertTrue(failed.stream().anyMatch(n -> n.startsWith("checkout p99 with the flood / alone")), "failed: " + failed);
    assertTrue(failed.stream().anyMatch(n -> n.startsWith("flood shed by CoDel")), "failed: " + failed);
    List<String> failedWithGate = nn.checks(new Simulation(c).run(), 1).stream()
        .filter(k -> k.asserted() && !k.passed()).map(Check::name).toList();
    assertTrue(failedWithGate.isEmpty(), "failed with the gate: " + failedWithGate);
  }

  /**
   * A scan flood on a backend of 2 workers, the gate at that capacity: a LOW tenant's 8 users run
   * scans 20x the median back to back, a HIGH tenant sends point reads. The gate cannot preempt a
   * running scan, so without a reserve a HIGH read waits for one to end; with {@code reserve_high: 1}
   * the second slot is HIGH's and it does not. Same seed, only the reserve differs.
   */
  @Test
  void reserveHighCutsHighP99UnderAScanFloodAtTheBackendsCapacity() {
    io.mproxy.core.config.CodelConfig gate = new io.mproxy.core.config.CodelConfig(100, 100, 2, 10_000, 2_000);
    double[] alone = scanFlood(gate, false);
    double[] without = scanFlood(gate, true);
    double[] with = scanFlood(gate.withReserveHigh(1), true);
    String msg = String.format(java.util.Locale.ROOT,
        "HIGH p50/p99 alone %.2f/%.2f ms, without reserve %.2f/%.2f ms, with reserve_high 1 %.2f/%.2f ms;"
            + " LOW ok %d vs %d",
        alone[0], alone[1], without[0], without[1], with[0], with[1], (long) without[3], (long) with[3]);
    System.out.println("scan flood, seed 1: " + msg);
    assertEquals(0, without[2], "HIGH never shed or failed without the reserve: " + msg);
    assertEquals(0, with[2], "HIGH never shed or failed with the reserve: " + msg);
    assertTrue(with[1] * 2 < without[1], "the reserve at least halves HIGH's p99: " + msg);
    assertTrue(with[1] <= 2 * alone[1], "with the reserve HIGH's p99 is within 2x of alone (issue 6): " + msg);
    assertTrue(with[3] > 0, "LOW still runs on its one slot: " + msg);
  }

  /** HIGH p50 ms, HIGH p99 ms, HIGH shed + failed, LOW completed. */
  private static double[] scanFlood(io.mproxy.core.config.CodelConfig codel, boolean flood) {
    SimConfig.BackendSpec db = SimConfig.BackendSpec.steady("db-1", 2, 2.0);
    List<SimConfig.TenantSpec> tenants = new ArrayList<>();
    tenants.add(SimConfig.TenantSpec.open("point", 0, "oltp", 50).withPriority(io.mproxy.core.config.Priority.HIGH)
        .withWriteFraction(0));
    if (flood) {
      tenants.add(SimConfig.TenantSpec.open("scan", 0, "reports", 0).withPriority(io.mproxy.core.config.Priority.LOW)
          .withArrival(new SimConfig.Closed(8, 0)).withCost(20).withWriteFraction(0));
    }
    SimConfig c = new SimConfig("scan-flood", 1, 10_000, 3_000, 100, 1, List.of(db),
        List.of(Scenarios.local(Scenarios.reject("oltp", 1e9, 1e9)),
            Scenarios.local(Scenarios.reject("reports", 1e9, 1e9))),
        tenants, SimConfig.ProxySpec.DEFAULT.withCodel(codel), SimConfig.GossipSpec.lan(1), Map.of());
    SimResult r = new Simulation(c).run();
    TenantStats point = r.tenant("point");
    return new double[] {
        point.latency().quantileMicros(0.5) / 1e3, point.latency().quantileMicros(0.99) / 1e3,
        point.shedTotal() + point.errors() + point.timeouts() + point.unavailable(),
        flood ? r.tenant("scan").ok() : 0};
  }

  /**
   * Retry storm: with the priority gate at the backend's capacity the backend never holds more
   * than 1.1x its capacity; the same seed without the gate lets the pool's 16 connections through
   * (2x), so the asserted bound breaks.
   */
  @Test
  void retryStormStaysWithinCapacityOnlyWithTheGate() {
    Scenarios.RetryStorm rs = new Scenarios.RetryStorm();
    SimConfig c = rs.config(1);
    SimResult r = new Simulation(new SimConfig(c.name(), c.seed(), c.durationMs(), c.drainMs(), c.sampleMs(),
        c.nodes(), c.backends(), c.groups(), c.tenants(), c.proxy().withCodel(null), c.gossip(), c.faults())).run();
    List<String> failed = rs.checks(r, 1).stream().filter(k -> k.asserted() && !k.passed()).map(Check::name)
        .toList();
    assertTrue(failed.stream().anyMatch(n -> n.startsWith("backend outstanding / capacity")), "failed: " + failed);
    List<String> failedWithGate = rs.checks(new Simulation(c).run(), 1).stream()
        .filter(k -> k.asserted() && !k.passed()).map(Check::name).toList();
    assertTrue(failedWithGate.isEmpty(), "failed with the gate: " + failedWithGate);
  }

  /**
   * Runaway: with the cancel rule every request of the runaway fingerprint is stopped within one
   * tick of crossing elapsed_ms_above; the same seed without the rule lets them run to the end.
   */
  @Test
  void runawayFingerprintIsActedOnWithinOneTickOnlyWithTheRule() {
    Scenarios.RunawayQuery rq = new Scenarios.RunawayQuery();
    List<String> failed = rq.checks(new Simulation(rq.build(1, false)).run(), 1).stream()
        .filter(k -> k.asserted() && !k.passed()).map(Check::name).toList();
    assertTrue(failed.stream().anyMatch(n -> n.startsWith("report requests cancelled")), "failed: " + failed);
    assertTrue(failed.stream().anyMatch(n -> n.startsWith("longest any report request ran")), "failed: " + failed);
    List<String> failedWithRule = rq.checks(new Simulation(rq.config(1)).run(), 1).stream()
        .filter(k -> k.asserted() && !k.passed()).map(Check::name).toList();
    assertTrue(failedWithRule.isEmpty(), "failed with the rule: " + failedWithRule);
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.balance.ShuffleShard;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.Mode;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Priorities, the priority gate with per-priority CoDel, admission CoDel, shadow mode: in virtual time. */
class QosGatewayTest {

  private static final double EPS = 1e-9;
  private static final TenantIdentity TENANT = new TenantIdentity("l1", "alice", "db", "app");
  private static final Origin ORIGIN = new Origin("l1", "redis");

  private final ManualClock clock = new ManualClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final RecordingTelemetry telemetry = new RecordingTelemetry();
  private final Backend backend =
      new Backend(new BackendConfig(new HostPort("127.0.0.1", 1), BackendConfig.Role.PRIMARY), clock);

  // ---- the priority gate ----

  @Test
  void theGateAdmitsUpToMaxInflightThenServesHighBeforeLow() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 2, 10, 1_000)), unlimited("g", Mode.ENFORCE));
    Answer a1 = admit(gw, "g", Priority.NORMAL);
    Answer a2 = admit(gw, "g", Priority.NORMAL);
    Answer low = admit(gw, "g", Priority.LOW);
    Answer high = admit(gw, "g", Priority.HIGH);
    assertNotNull(a1.ticket());
    assertNotNull(a2.ticket());
    assertTrue(low.answers.isEmpty() && high.answers.isEmpty(), "both wait for a slot");
    assertEquals(2, gw.gateInflight());
    assertEquals(2, gw.gateQueued());

    a1.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(high.ticket(), "the freed slot goes to HIGH although LOW came first");
    assertTrue(low.answers.isEmpty());
    a2.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(low.ticket());
    assertEquals(0, gw.gateQueued());
    assertEquals(2, gw.gateInflight());
  }

  @Test
  void queueShardsLetATenantOutsideTheFloodersHandGoNext() {
    TenantIdentity flooder = new TenantIdentity("l1", "flooder", "db", "batch");
    int[] floodHand = ShuffleShard.hand(ShuffleShard.key(flooder), 0, 4, 1);
    TenantIdentity other = null;
    for (int i = 0; other == null; i++) {
      TenantIdentity t = new TenantIdentity("l1", "user" + i, "db", "web");
      if (ShuffleShard.hand(ShuffleShard.key(t), 0, 4, 1)[0] != floodHand[0]) {
        other = t;
      }
    }
    assertEquals(7, positionServed(new CodelConfig(5, 100, 1, 100, 10_000), flooder, other),
        "one FIFO: the other tenant waits behind the whole flood");
    assertTrue(positionServed(new CodelConfig(5, 100, 1, 100, 10_000, 4, 1), flooder, other) <= 2,
        "queue shards: it waits for at most one of the flooder's requests");
  }

  /** Six LOW requests of {@code flooder} queue, then one of {@code other}: when is {@code other}'s served? */
  private int positionServed(CodelConfig codel, TenantIdentity flooder, TenantIdentity other) {
    Gateway gw = gateway(Optional.of(codel), unlimited("g", Mode.ENFORCE));
    Answer holder = admit(gw, "g", Priority.LOW);
    List<Answer> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(admitAs(gw, flooder));
    }
    Answer mine = admitAs(gw, other);
    order.add(mine);
    Ticket running = holder.ticket();
    for (int served = 1; served <= order.size(); served++) {
      running.complete(Outcome.OK, 0);
      scheduler.advanceNanos(0);
      running = null;
      for (Answer a : order) {
        if (a.ticket() != null && !a.done) {
          a.done = true;
          running = a.ticket();
        }
      }
      if (mine.done) {
        return served;
      }
    }
    return -1;
  }

  private Answer admitAs(Gateway gw, TenantIdentity tenant) {
    Answer a = new Answer();
    Request r = new Request(tenant, RequestKind.READ, "GET", null, 32, clock.nanoTime(), true);
    gw.admit(r, new Classification("g", Priority.LOW, false, 0), ORIGIN, RuWeights.DEFAULT, scheduler, a);
    return a;
  }

  @Test
  void aFullGateQueueRefusesWithQueueFullAndRefundsTheEstimate() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 1, 1, 1_000)),
        new ResourceGroupConfig("g", 1e-9, 10, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 10));
    ResourceGroup g = gw.groups().get("g");
    assertNotNull(admit(gw, "g", Priority.NORMAL).ticket());
    assertTrue(admit(gw, "g", Priority.NORMAL).answers.isEmpty(), "queued");
    Answer third = admit(gw, "g", Priority.HIGH);
    assertEquals(ShedReason.QUEUE_FULL, third.refusal().reason());
    assertEquals(10.0 - 2.0, g.bucket().tokens(), 1e-6, "the refused request's 1 RU came back");
    assertEquals(1, telemetry.shed.size());
    assertEquals(2, g.admittedTotal() + gw.gateQueued(), "one admitted, one waiting");
  }

  @Test
  void codelShedsLowHeadsThatStayAboveTargetButNeverTheHighQueue() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 1, 1_000, 10_000)), unlimited("g", Mode.ENFORCE));
    Answer holder = admit(gw, "g", Priority.NORMAL);
    List<Answer> lows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lows.add(admit(gw, "g", Priority.LOW));
    }
    // the slot is held for 50 ms per request: every LOW head has waited far above 5 ms
    Ticket current = holder.ticket();
    int shed = 0;
    int admitted = 0;
    for (int round = 0; round < 40 && current != null; round++) {
      clock.advanceNanos(50_000_000L);
      gw.tick();
      current.complete(Outcome.OK, 0);
      scheduler.advanceNanos(0);
      current = null;
      for (Answer a : lows) {
        if (a.ticket() != null && !a.done) {
          a.done = true;
          admitted++;
          current = a.ticket();
        }
      }
    }
    for (Answer a : lows) {
      if (a.refusal() != null) {
        assertEquals(ShedReason.CODEL, a.refusal().reason());
        assertEquals(100, a.refusal().retryAfterMs());
        shed++;
      }
    }
    assertTrue(admitted >= 2, "CoDel lets heads through until sojourn stayed above target an interval: " + admitted);
    assertTrue(shed >= 10, "then sheds the LOW heads: " + shed);
    assertEquals(20, admitted + shed, "every waiter answered once");

    // a HIGH waiter behind a busy slot is served by priority: its own queue's sojourn is short
    Answer h1 = admit(gw, "g", Priority.HIGH);
    assertNotNull(h1.ticket(), "the gate is free again");
    Answer h2 = admit(gw, "g", Priority.HIGH);
    clock.advanceNanos(2_000_000L);
    h1.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(h2.ticket(), "HIGH below target is never shed");
  }

  @Test
  void waitersPastMaxWaitAreShedOnTheTick() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 1, 10, 300)), unlimited("g", Mode.ENFORCE));
    Answer holder = admit(gw, "g", Priority.HIGH);
    Answer waiter = admit(gw, "g", Priority.LOW);
    clock.advanceNanos(200_000_000L);
    gw.tick();
    scheduler.advanceNanos(0);
    assertTrue(waiter.answers.isEmpty());
    clock.advanceNanos(200_000_000L);
    gw.tick();
    scheduler.advanceNanos(0);
    assertEquals(ShedReason.CODEL, waiter.refusal().reason());
    assertEquals(0, gw.gateQueued());
    holder.ticket().complete(Outcome.OK, 0);
    assertEquals(0, gw.gateInflight(), "the slot came back");
  }

  @Test
  void aReloadThatDropsTheGateStillAnswersItsWaiters() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 1, 10, 1_000)), unlimited("g", Mode.ENFORCE));
    Answer holder = admit(gw, "g", Priority.HIGH);
    Answer waiter = admit(gw, "g", Priority.LOW);
    gw.reconfigure(config(Optional.empty(), unlimited("g", Mode.ENFORCE)), 2);
    assertNotNull(admit(gw, "g", Priority.LOW).ticket(), "no gate after the reload");
    holder.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(waiter.ticket(), "the retired gate hands its slot on");
  }

  // ---- slots reserved for HIGH ----

  @Test
  void reserveHighKeepsTheLastSlotsForHighWhileLowAndNormalWait() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 3, 100, 10_000, 1, 1, 1)), unlimited("g", Mode.ENFORCE));
    Answer low1 = admit(gw, "g", Priority.LOW);
    Answer low2 = admit(gw, "g", Priority.LOW);
    Answer low3 = admit(gw, "g", Priority.LOW);
    Answer normal = admit(gw, "g", Priority.NORMAL);
    assertNotNull(low1.ticket());
    assertNotNull(low2.ticket());
    assertTrue(low3.answers.isEmpty() && normal.answers.isEmpty(), "the third slot is HIGH's");
    assertEquals(2, gw.gateInflight());

    Answer high1 = admit(gw, "g", Priority.HIGH);
    assertNotNull(high1.ticket(), "HIGH takes the reserved slot at once, past the queued LOW and NORMAL");
    Answer high2 = admit(gw, "g", Priority.HIGH);
    assertTrue(high2.answers.isEmpty(), "every slot is taken now");
    assertEquals(3, gw.gateInflight());

    high1.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(high2.ticket(), "a freed slot goes to the waiting HIGH");
    high2.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertTrue(normal.answers.isEmpty() && low3.answers.isEmpty(), "the freed reserved slot stays free");
    assertEquals(2, gw.gateInflight());

    low1.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(normal.ticket(), "a freed unreserved slot goes to NORMAL before LOW");
    assertTrue(low3.answers.isEmpty());
    low2.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(low3.ticket());
    assertEquals(0, gw.gateQueued());
  }

  @Test
  void withoutAReserveHighWaitsForARunningLowRequest() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100, 3, 100, 10_000)), unlimited("g", Mode.ENFORCE));
    List<Answer> lows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      lows.add(admit(gw, "g", Priority.LOW));
    }
    assertEquals(3, gw.gateInflight(), "LOW fills every slot");
    Answer high = admit(gw, "g", Priority.HIGH);
    assertTrue(high.answers.isEmpty(), "HIGH waits for one of the running LOW requests");
    lows.get(0).ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(high.ticket(), "then goes before the queued LOW");
    assertTrue(lows.get(3).answers.isEmpty());
  }

  @Test
  void aReloadThatChangesOnlyReserveHighKeepsCountingTheSlotsInFlight() {
    CodelConfig noReserve = new CodelConfig(5, 100, 2, 100, 10_000);
    Gateway gw = gateway(Optional.of(noReserve), unlimited("g", Mode.ENFORCE));
    Answer low1 = admit(gw, "g", Priority.LOW);
    Answer low2 = admit(gw, "g", Priority.LOW);
    assertNotNull(low1.ticket());
    assertNotNull(low2.ticket());
    gw.reconfigure(config(Optional.of(noReserve.withReserveHigh(1)), unlimited("g", Mode.ENFORCE)), 2);
    assertEquals(2, gw.gateInflight(), "the same gate: its two slots in flight still count");
    Answer low3 = admit(gw, "g", Priority.LOW);
    Answer high = admit(gw, "g", Priority.HIGH);
    assertTrue(low3.answers.isEmpty() && high.answers.isEmpty(), "both slots are taken");
    low1.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertNotNull(high.ticket());
    high.ticket().complete(Outcome.OK, 0);
    scheduler.advanceNanos(0);
    assertTrue(low3.answers.isEmpty(), "one slot free, and it is reserved for HIGH");
    assertEquals(1, gw.gateInflight());

    gw.reconfigure(config(Optional.of(noReserve), unlimited("g", Mode.ENFORCE)), 3);
    scheduler.advanceNanos(0);
    assertNotNull(low3.ticket(), "dropping the reserve lets the LOW waiter in at once");
    assertEquals(2, gw.gateInflight());
  }

  @Test
  void reserveHighMustLeaveASlotForTheOthers() {
    assertThrows(IllegalArgumentException.class, () -> new CodelConfig(5, 100, 4, 10, 1_000, 1, 1, 4));
    assertThrows(IllegalArgumentException.class, () -> new CodelConfig(5, 100, 4, 10, 1_000, 1, 1, -1));
    assertThrows(IllegalArgumentException.class, () -> new CodelConfig(5, 100, 0, 10, 1_000, 1, 1, 1),
        "no gate, nothing to reserve");
    assertEquals(4, new CodelConfig(5, 100, 4, 10, 1_000, 1, 1, 3).slotsFor(Priority.HIGH));
    assertEquals(1, new CodelConfig(5, 100, 4, 10, 1_000, 1, 1, 3).slotsFor(Priority.LOW));
  }

  // ---- CoDel at admission (no gate) ----

  @Test
  void admissionCodelEscalatesLowThenNormalThenHighAndStepsBack() {
    Gateway gw = gateway(Optional.of(new CodelConfig(5, 100)), unlimited("g", Mode.ENFORCE));
    Codel c = gw.codel();
    assertNotNull(c);
    // every 10 ms one request is dispatched after a 20 ms wait
    for (int i = 0; i < 12; i++) {
      Ticket t = admit(gw, "g", Priority.HIGH).ticket();
      clock.advanceNanos(20_000_000L);
      t.dispatched(backend);
      t.complete(Outcome.OK, 0);
    }
    assertEquals(2, c.level(), "two intervals above target");
    assertEquals(ShedReason.CODEL, admit(gw, "g", Priority.LOW).refusal().reason());
    assertEquals(ShedReason.CODEL, admit(gw, "g", Priority.NORMAL).refusal().reason());
    assertNotNull(admit(gw, "g", Priority.HIGH).ticket(), "HIGH last");
    clock.advanceNanos(150_000_000L);
    gw.tick();
    clock.advanceNanos(150_000_000L);
    gw.tick();
    assertEquals(0, c.level(), "intervals without a late dispatch step back");
    assertNotNull(admit(gw, "g", Priority.LOW).ticket());
  }

  @Test
  void codelUnitStepsOnePriorityPerInterval() {
    Codel c = new Codel(new CodelConfig(5, 100), 0);
    long ms = 1_000_000L;
    for (long t = 0; t <= 100; t += 10) {
      c.sample(6 * ms, t * ms);
    }
    assertEquals(1, c.level());
    assertTrue(c.sheds(Priority.LOW));
    assertFalse(c.sheds(Priority.NORMAL));
    c.sample(1 * ms, 110 * ms);
    assertEquals(1, c.level(), "one good sample does not end shedding");
    for (long t = 120; t <= 220; t += 10) {
      c.sample(1 * ms, t * ms);
    }
    assertEquals(0, c.level());
  }

  // ---- shadow mode ----

  @Test
  void aShadowGroupAdmitsWhatItWouldRejectAndCountsIt() {
    Gateway gw = gateway(Optional.empty(),
        new ResourceGroupConfig("g", 1e-9, 2, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 2, null, Mode.SHADOW));
    ResourceGroup g = gw.groups().get("g");
    for (int i = 0; i < 5; i++) {
      assertNotNull(admit(gw, "g", Priority.NORMAL).ticket(), "shadow never refuses");
    }
    assertEquals(3, g.wouldRejectTotal());
    assertEquals(0, g.rejectedTotal());
    assertEquals(3, telemetry.wouldShed.size());
    assertTrue(telemetry.shed.isEmpty());
    assertEquals(5.0, g.ruChargedTotal(), EPS, "what it admits is still charged");
  }

  @Test
  void switchingShadowToEnforceIsAReload() {
    Gateway gw = gateway(Optional.empty(),
        new ResourceGroupConfig("g", 1e-9, 1, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1, null, Mode.SHADOW));
    assertNotNull(admit(gw, "g", Priority.NORMAL).ticket());
    assertNotNull(admit(gw, "g", Priority.NORMAL).ticket());
    gw.reconfigure(config(Optional.empty(),
        new ResourceGroupConfig("g", 1e-9, 1, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1, null, Mode.ENFORCE)), 2);
    assertEquals(ShedReason.RU_LIMIT, admit(gw, "g", Priority.NORMAL).refusal().reason());
  }

  // ---- cold start ----

  @Test
  void aReadWithoutHistoryIsEstimatedAtTheGroupsMeanRead() {
    Gateway gw = gateway(Optional.empty(), unlimited("g", Mode.ENFORCE));
    Ticket first = admitFp(gw, "fp-a").ticket();
    assertEquals(1.0, first.estimate(), EPS, "nothing known at all: the base");
    first.dispatched(backend);
    clock.advanceNanos(8_000_000L); // 8 ms at w_latency 0.5: 4 RU of latency
    first.complete(Outcome.OK, 0);
    Ticket other = admitFp(gw, "fp-b").ticket();
    assertEquals(5.0, other.estimate(), 1e-6, "a new shape is estimated at what the group's reads cost");
  }

  // ---- helpers ----

  private Answer admit(Gateway gw, String group, Priority p) {
    Answer a = new Answer();
    Request r = new Request(TENANT, RequestKind.READ, "GET", null, 32, clock.nanoTime(), true);
    gw.admit(r, new Classification(group, p, false, 0), ORIGIN, RuWeights.DEFAULT, scheduler, a);
    return a;
  }

  private Answer admitFp(Gateway gw, String fp) {
    Answer a = new Answer();
    Request r = new Request(TENANT, RequestKind.READ, "GET", fp, 32, clock.nanoTime(), true);
    gw.admit(r, new Classification("g", Priority.NORMAL, false, 0), ORIGIN, RuWeights.DEFAULT, scheduler, a);
    return a;
  }

  private Gateway gateway(Optional<CodelConfig> codel, ResourceGroupConfig group) {
    return new Gateway(config(codel, group), clock, telemetry, new FingerprintStore(1_000));
  }

  private static ProxyConfig config(Optional<CodelConfig> codel, ResourceGroupConfig group) {
    return new ProxyConfig(new ServerSettings(10_000, 1, 100, false), AdminConfig.DEFAULT, List.of(),
        Map.of(), Map.of(group.name(), group), List.of(), Optional.empty(), codel);
  }

  private static ResourceGroupConfig unlimited(String name, Mode mode) {
    return new ResourceGroupConfig(name, 1e9, 1e9, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e9, null, mode);
  }

  /** Records the single answer admission gives; fails on a second one. */
  private static final class Answer implements AdmissionCallback {
    private final List<Object> answers = new ArrayList<>();
    boolean done;

    @Override
    public void admitted(Ticket ticket) {
      record(ticket);
    }

    @Override
    public void refused(Refusal refusal) {
      record(refusal);
    }

    private void record(Object answer) {
      if (!answers.isEmpty()) {
        fail("a second answer " + answer + " after " + answers);
      }
      answers.add(answer);
    }

    Ticket ticket() {
      return answers.isEmpty() || !(answers.get(0) instanceof Ticket t) ? null : t;
    }

    Refusal refusal() {
      return answers.isEmpty() || !(answers.get(0) instanceof Refusal r) ? null : r;
    }
  }
}

package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.hint.HintParser;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admission chain and ticket settlement, in virtual time: {@code ru_tick_ms = 100}, default
 * RU weights ({@code w_latency = 0.5}), a {@link ManualScheduler} for queue waits.
 */
class GatewayTest {

  private static final double EPS = 1e-9;
  private static final long MS = 1_000_000L;
  /** Refill so slow that it never shows within a test's few seconds of virtual time. */
  private static final double NO_REFILL = 1e-9;
  private static final RuWeights W = RuWeights.DEFAULT;
  private static final TenantIdentity TENANT = new TenantIdentity("l1", "alice", "db", "app");
  private static final Origin ORIGIN = new Origin("l1", "redis");

  private final ManualClock clock = new ManualClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final RecordingTelemetry telemetry = new RecordingTelemetry();
  private final Backend backend =
      new Backend(new BackendConfig(new HostPort("127.0.0.1", 1), BackendConfig.Role.PRIMARY), clock);

  // ---- admission: reject mode ----

  @Test
  void grantsWhileTheBucketLastsThenRefusesWithRetryAfter() {
    Gateway gw = gateway(List.of(), reject("g", 1, 3, 10));
    for (int i = 0; i < 3; i++) {
      assertNotNull(admit(gw, "g", read("fp")).ticket(), "request " + i);
    }
    Refusal refusal = admit(gw, "g", read("fp")).refusal();
    assertNotNull(refusal);
    assertTrue(refusal.message().startsWith("mproxy: rejected group=g reason=ru_limit retry_after_ms="),
        refusal.message());
    assertEquals(ShedReason.RU_LIMIT, refusal.reason());
    assertEquals(Outcome.REJECTED, refusal.outcome());
    assertEquals(1_000, refusal.retryAfterMs(), "1 RU missing at 1 RU/s");
    assertEquals("mproxy: rejected group=g reason=ru_limit retry_after_ms=1000", refusal.message());

    ResourceGroup g = gw.groups().get("g");
    assertEquals(3, g.admittedTotal());
    assertEquals(1, g.rejectedTotal());
    assertEquals(List.of(new RecordingTelemetry.Shed("g", Priority.NORMAL, ShedReason.RU_LIMIT)), telemetry.shed);
    assertEquals(1, telemetry.completed.size());
    assertEquals(Outcome.REJECTED, telemetry.completed.get(0).outcome());
  }

  @Test
  void refillAdmitsAgainAfterTheRetryAfter() {
    Gateway gw = gateway(List.of(), reject("g", 4, 1, 10));
    assertNotNull(admit(gw, "g", read(null)).ticket());
    Refusal refusal = admit(gw, "g", read(null)).refusal();
    assertEquals(250, refusal.retryAfterMs());
    clock.advanceMillis(refusal.retryAfterMs());
    assertNotNull(admit(gw, "g", read(null)).ticket());
  }

  @Test
  void unknownGroupFallsBackToTheDefaultGroup() {
    Gateway gw = gateway(List.of(), reject("g", 1, 3, 10));
    Answer a = admit(gw, "nope", read(null));
    assertNotNull(a.ticket());
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, a.ticket().group());
  }

  // ---- admission: queue mode ----

  @Test
  void queueModeDelaysTheCallbackByTheComputedWait() {
    Gateway gw = gateway(List.of(), queue("q", 4, 1, 1_000, 10, 10));
    assertNotNull(admit(gw, "q", read(null)).ticket(), "the burst admits the first at once");

    Answer waiting = admit(gw, "q", read(null));
    assertNull(waiting.ticket(), "1 RU short at 4 RU/s: must wait 250 ms");
    assertNull(waiting.refusal());
    ResourceGroup q = gw.groups().get("q");
    assertEquals(1, q.queued());

    scheduler.advanceMillis(249);
    assertNull(waiting.ticket());
    scheduler.advanceMillis(1);
    assertNotNull(waiting.ticket());
    assertEquals(0, q.queued());
    assertEquals(2, q.admittedTotal());
    assertEquals(List.of(new RecordingTelemetry.QueueWait("q", Priority.NORMAL, 250 * MS)), telemetry.queueWaits);
  }

  @Test
  void queuedRequestsAreAdmittedInArrivalOrder() {
    Gateway gw = gateway(List.of(), queue("q", 4, 1, 1_000, 10, 10));
    admit(gw, "q", read(null));
    Answer second = admit(gw, "q", read(null));
    Answer third = admit(gw, "q", read(null));
    scheduler.advanceMillis(250);
    assertNotNull(second.ticket());
    assertNull(third.ticket());
    scheduler.advanceMillis(250);
    assertNotNull(third.ticket());
    assertEquals(List.of(250 * MS, 500 * MS),
        telemetry.queueWaits.stream().map(RecordingTelemetry.QueueWait::nanos).toList());
  }

  @Test
  void queueFullIsRefusedWithQueueFull() {
    Gateway gw = gateway(List.of(), queue("q", 4, 1, 1_000, 1, 10));
    admit(gw, "q", read(null));
    Answer waiting = admit(gw, "q", read(null));
    Refusal refusal = admit(gw, "q", read(null)).refusal();
    assertNotNull(refusal);
    assertEquals(ShedReason.QUEUE_FULL, refusal.reason());
    assertTrue(refusal.message().startsWith("mproxy: rejected group=q reason=queue_full retry_after_ms="),
        refusal.message());
    assertEquals(1, gw.groups().get("q").queued(), "the refused request took no queue place");
    scheduler.advanceMillis(250);
    assertNotNull(waiting.ticket());
    assertEquals(0, gw.groups().get("q").queued());
  }

  @Test
  void queueModeRefusesWhenTheWaitWouldExceedMaxQueueMs() {
    Gateway gw = gateway(List.of(), queue("q", 4, 1, 100, 10, 10));
    admit(gw, "q", read(null));
    Refusal refusal = admit(gw, "q", read(null)).refusal();
    assertNotNull(refusal);
    assertEquals(ShedReason.RU_LIMIT, refusal.reason());
    assertEquals(250, refusal.retryAfterMs());
    assertEquals(0, gw.groups().get("q").queued(), "the queue place is given back");
    assertEquals(0, scheduler.pending());
  }

  // ---- classification ----

  @Test
  void firstMatchingRuleWinsAndItsPriorityOverridesTheGroups() {
    List<TenantRule> rules = List.of(
        new TenantRule(null, "alice", null, null, "gold", null, true),
        new TenantRule("l1", null, null, null, "silver", Priority.LOW, false),
        new TenantRule(null, "alice", "db", null, "bronze", Priority.HIGH, false));
    Gateway gw = gateway(rules,
        group("gold", Priority.HIGH), group("silver", Priority.NORMAL), group("bronze", Priority.NORMAL),
        group(ResourceGroupConfig.DEFAULT_GROUP, Priority.LOW));

    assertEquals(new Classification("gold", Priority.HIGH, true, 0), gw.classify(TENANT));
    assertEquals(new Classification("silver", Priority.LOW, false, 1),
        gw.classify(new TenantIdentity("l1", "bob", "db", null)));
    assertEquals(new Classification(ResourceGroupConfig.DEFAULT_GROUP, Priority.LOW, false, -1),
        gw.classify(new TenantIdentity("l2", "bob", "db", null)));
  }

  @Test
  void everyGivenKeyMustMatch() {
    List<TenantRule> rules = List.of(new TenantRule("l1", "alice", "db", "app", "gold", null, false));
    Gateway gw = gateway(rules, group("gold", Priority.HIGH));
    assertEquals("gold", gw.classify(TENANT).group());
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, gw.classify(TENANT.withApplication("other")).group());
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, gw.classify(TENANT.withApplication(null)).group());
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, gw.classify(TENANT.withDatabase("x")).group());
  }

  @Test
  void unmatchedTenantGoesToTheImplicitDefaultGroup() {
    Gateway gw = gateway(List.of(new TenantRule(null, "bob", null, null, "gold", null, false)),
        group("gold", Priority.HIGH));
    assertEquals(new Classification(ResourceGroupConfig.DEFAULT_GROUP, Priority.NORMAL, false, -1),
        gw.classify(TENANT));
  }

  @Test
  void admissionAppliesTheClassificationToTheRequest() {
    Gateway gw = gateway(List.of(new TenantRule(null, "alice", null, null, "gold", Priority.LOW, false)),
        group("gold", Priority.HIGH));
    Request req = read(null);
    Answer a = new Answer();
    gw.admit(req, gw.classify(TENANT), ORIGIN, W, scheduler, a);
    assertEquals("gold", req.group());
    assertEquals(Priority.LOW, req.priority());
    assertEquals("gold", a.ticket().group());
  }

  @Test
  void reconfigureReplacesTheClassifierAndBumpsTheGeneration() {
    Gateway gw = gateway(List.of(), group("gold", Priority.HIGH));
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, gw.classify(TENANT).group());
    long before = gw.generation();
    gw.reconfigure(config(List.of(new TenantRule(null, "alice", null, null, "gold", null, false)),
        group("gold", Priority.HIGH)), before + 1);
    assertEquals(before + 1, gw.generation());
    assertEquals("gold", gw.classify(TENANT).group());
  }

  // ---- latency charged while in flight ----

  @Test
  void latencyIsChargedEveryTickWhileInFlight() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", read("fp")).ticket();
    assertEquals(1.0, ticket.estimate(), EPS);
    assertEquals(999.0, t.bucket().tokens(), 1e-6);
    ticket.dispatched(backend);
    assertEquals(1, t.inflight());
    assertEquals(1, backend.inflight());

    for (int n = 1; n <= 5; n++) {
      scheduler.advanceMillis(100);
      gw.tick();
      // w_latency * tick_ms * n = 0.5 * 100 * n, before the request completes
      assertEquals(999.0 - 50.0 * n, t.bucket().tokens(), 1e-6, "after tick " + n);
      assertEquals(1.0 + 50.0 * n, t.ruChargedTotal(), EPS, "after tick " + n);
    }
  }

  @Test
  void completionChargesExactlyTheFormulaForTheMeasuredLatency() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", read("fp")).ticket();
    ticket.dispatched(backend);
    for (int n = 0; n < 5; n++) {
      scheduler.advanceMillis(100);
      gw.tick();
    }
    ticket.complete(Outcome.OK, 2048);

    // 1 + 2048/1024 + 0.5 * 500 ms
    double expected = 253.0;
    assertEquals(expected, t.ruChargedTotal(), EPS);
    assertEquals(1_000.0 - expected, t.bucket().tokens(), 1e-6);
    assertEquals(0, t.inflight());
    assertEquals(0, backend.inflight());
    assertEquals(1, backend.completed());
    assertEquals(List.of(new RecordingTelemetry.Charged("t", false, expected)), telemetry.charged);
    assertEquals(List.of(new RecordingTelemetry.Completed("l1", "redis", "t", Outcome.OK, 500 * MS)),
        telemetry.completed);
  }

  @Test
  void completionBetweenTicksReconcilesThePartialTick() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    scheduler.advanceMillis(30); // dispatched mid-way between two ticks
    Ticket ticket = admit(gw, "t", read("fp")).ticket();
    ticket.dispatched(backend);
    scheduler.advanceMillis(70);
    gw.tick(); // charges the 70 ms actually spent in flight (35 RU), not a whole tick
    scheduler.advanceMillis(100);
    gw.tick();
    scheduler.advanceMillis(55);
    assertEquals(1 + 35 + 50, t.ruChargedTotal(), EPS);
    ticket.complete(Outcome.OK, 0);
    // 1 + 0 + 0.5 * 225 ms
    assertEquals(113.5, t.ruChargedTotal(), EPS);
    assertEquals(1_000.0 - 113.5, t.bucket().tokens(), 1e-6);
  }

  @Test
  void writesPayTheWriteFormulaOnCompletion() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", request(RequestKind.WRITE, "w", 8192, true)).ticket();
    assertEquals(8.0, ticket.estimate(), EPS, "6 + 8192/4096");
    ticket.dispatched(backend);
    scheduler.advanceMillis(100);
    gw.tick();
    scheduler.advanceMillis(20);
    ticket.complete(Outcome.OK, 1 << 20);
    // 6 + 2 + 0.5 * 120, reply bytes not charged to a write
    assertEquals(68.0, t.ruChargedTotal(), EPS);
    assertEquals(1_000.0 - 68.0, t.bucket().tokens(), 1e-6);
    assertEquals(List.of(new RecordingTelemetry.Charged("t", true, 68.0)), telemetry.charged);
  }

  @Test
  void everyInFlightRequestIsChargedEachTickAndOnlyToItsGroup() {
    Gateway gw = gateway(List.of(),
        reject("a", NO_REFILL, 1_000, 1_000), reject("b", NO_REFILL, 1_000, 1_000));
    Ticket a1 = admit(gw, "a", read(null)).ticket();
    Ticket a2 = admit(gw, "a", read(null)).ticket();
    Ticket b1 = admit(gw, "b", read(null)).ticket();
    a1.dispatched(backend);
    a2.dispatched(backend);
    scheduler.advanceMillis(100);
    gw.tick();
    assertEquals(2.0 + 100.0, gw.groups().get("a").ruChargedTotal(), EPS);
    assertEquals(1.0, gw.groups().get("b").ruChargedTotal(), EPS, "b's ticket was never dispatched");
    a1.complete(Outcome.OK, 0);
    scheduler.advanceMillis(100);
    gw.tick();
    assertEquals(152.0, gw.groups().get("a").ruChargedTotal(), EPS,
        "a1 settled at 1 + 50 = its ticks; only a2 is charged for the second tick");
    b1.complete(Outcome.ERROR, 0);
    a2.complete(Outcome.OK, 0);
    assertEquals((1 + 50.0) + (1 + 100.0), gw.groups().get("a").ruChargedTotal(), EPS);
  }

  @Test
  void aHangingRequestDrainsItsGroupSoNewRequestsAreRefusedBeforeItCompletes() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 10, 100));
    Ticket hanging = admit(gw, "t", read(null)).ticket();
    hanging.dispatched(backend);
    assertNotNull(admit(gw, "t", read(null)).ticket(), "budget left before the tick");
    scheduler.advanceMillis(100);
    gw.tick();
    Answer next = admit(gw, "t", read(null));
    assertNotNull(next.refusal(), "the in-flight latency has pushed the bucket into debt");
    assertEquals(ShedReason.RU_LIMIT, next.refusal().reason());
  }

  @Test
  void aTicketNeverDispatchedRefundsItsEstimate() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", request(RequestKind.WRITE, "w", 4096, true)).ticket();
    assertEquals(7.0, t.ruChargedTotal(), EPS);
    assertEquals(993.0, t.bucket().tokens(), 1e-6);
    scheduler.advanceMillis(300);
    gw.tick();
    ticket.complete(Outcome.ERROR, 0);
    assertEquals(0.0, t.ruChargedTotal(), EPS);
    assertEquals(1_000.0, t.bucket().tokens(), 1e-6);
    assertEquals(0, backend.completed());
    assertTrue(telemetry.charged.isEmpty(), "nothing was charged");
    assertEquals(0.0, gw.fingerprints().meanRu("w"), EPS, "an unsent request teaches the fingerprint nothing");
  }

  @Test
  void aQueuedTicketNeverDispatchedRefundsItsReservation() {
    Gateway gw = gateway(List.of(), queue("q", 4, 1, 1_000, 10, 10));
    admit(gw, "q", read(null));
    Answer waiting = admit(gw, "q", read(null));
    scheduler.advanceMillis(250);
    ResourceGroup q = gw.groups().get("q");
    assertEquals(0.0, q.bucket().tokens(), 1e-9);
    waiting.ticket().complete(Outcome.ERROR, 0);
    assertEquals(1.0, q.bucket().tokens(), 1e-9);
    assertEquals(1.0, q.ruChargedTotal(), EPS, "only the first request's estimate stays charged");
  }

  @Test
  void completingTwiceChargesOnce() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", read("fp")).ticket();
    ticket.dispatched(backend);
    scheduler.advanceMillis(100);
    gw.tick();
    ticket.complete(Outcome.OK, 0);
    double charged = t.ruChargedTotal();
    double tokens = t.bucket().tokens();
    scheduler.advanceMillis(100);
    gw.tick();
    ticket.complete(Outcome.ERROR, 4096);
    assertEquals(51.0, charged, EPS);
    assertEquals(charged, t.ruChargedTotal(), EPS);
    assertEquals(tokens, t.bucket().tokens(), 1e-6);
    assertEquals(1, telemetry.completed.size());
    assertEquals(1, telemetry.charged.size());
    assertEquals(0, backend.inflight());
    assertEquals(1, backend.completed());
  }

  @Test
  void dispatchingTwiceOrAfterCompletionIsIgnored() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    Ticket ticket = admit(gw, "t", read(null)).ticket();
    ticket.dispatched(backend);
    ticket.dispatched(backend);
    assertEquals(1, backend.inflight());
    assertEquals(1, gw.groups().get("t").inflight());
    ticket.complete(Outcome.OK, 0);
    ticket.dispatched(backend);
    assertEquals(0, backend.inflight());
    assertEquals(0, gw.groups().get("t").inflight());
  }

  @Test
  void blockingRequestsAreNotChargedForLatency() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket ticket = admit(gw, "t", request(RequestKind.READ, "BLPOP", 40, false)).ticket();
    ticket.dispatched(backend);
    for (int n = 0; n < 5; n++) {
      scheduler.advanceMillis(100);
      gw.tick();
    }
    assertEquals(999.0, t.bucket().tokens(), 1e-6, "no latency charged while waiting by design");
    assertEquals(1.0, t.ruChargedTotal(), EPS);
    ticket.complete(Outcome.OK, 1024);
    assertEquals(2.0, t.ruChargedTotal(), EPS, "1 + 1024/1024, no latency term");
    assertEquals(998.0, t.bucket().tokens(), 1e-6);
  }

  @Test
  void theFingerprintMeanFeedsTheNextEstimate() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    Ticket first = admit(gw, "t", read("fp")).ticket();
    assertEquals(1.0, first.estimate(), EPS);
    first.dispatched(backend);
    scheduler.advanceMillis(40);
    first.complete(Outcome.OK, 3072); // 1 + 3 + 20 = 24
    assertEquals(24.0, gw.fingerprints().meanRu("fp"), EPS);

    Ticket second = admit(gw, "t", read("fp")).ticket();
    assertEquals(24.0, second.estimate(), EPS);
    assertEquals(24.0, admit(gw, "t", read("other")).ticket().estimate(), EPS,
        "a shape without history is estimated at the group's mean read, not the 1 RU base");
    assertEquals(7.0, admit(gw, "t", request(RequestKind.WRITE, "fp", 4096, true)).ticket().estimate(), EPS,
        "a write's estimate ignores the fingerprint mean");

    second.dispatched(backend);
    second.complete(Outcome.OK, 0); // 1 RU; EWMA 24 + 0.1 * (1 - 24)
    assertEquals(21.7, admit(gw, "t", read("fp")).ticket().estimate(), 1e-9);
  }

  @Test
  void theEstimateIsSettledAgainstTheRealCost() {
    Gateway gw = gateway(List.of(), reject("t", NO_REFILL, 1_000, 1_000));
    ResourceGroup t = gw.groups().get("t");
    Ticket warm = admit(gw, "t", read("fp")).ticket();
    warm.dispatched(backend);
    scheduler.advanceMillis(200);
    gw.tick();
    gw.tick();
    warm.complete(Outcome.OK, 0); // 1 + 100 = 101
    double before = t.ruChargedTotal();

    Ticket cheap = admit(gw, "t", read("fp")).ticket();
    assertEquals(101.0, cheap.estimate(), EPS);
    cheap.dispatched(backend);
    cheap.complete(Outcome.OK, 0); // really costs 1: 100 refunded
    assertEquals(1.0, t.ruChargedTotal() - before, EPS);
    assertEquals(1_000.0 - 102.0, t.bucket().tokens(), 1e-6);
  }

  // ---- demand for fleet sharing ----

  @Test
  void demandCountsEveryEstimateAskedForAdmittedOrRefused() {
    Gateway gw = gateway(List.of(), reject("g", NO_REFILL, 2, 2));
    ResourceGroup g = gw.groups().get("g");
    assertNotNull(admit(gw, "g", read(null)).ticket());
    assertNotNull(admit(gw, "g", read(null)).ticket());
    assertNotNull(admit(gw, "g", read(null)).refusal());
    assertEquals(3.0, g.ruAskedTotal(), EPS, "a refused request is demand too");
    assertEquals(2.0, g.ruChargedTotal(), EPS);
  }

  @Test
  void everyPathCountsItsDemandChargeAndAdmissionOnce() throws Exception {
    // leasing on (rate and burst high enough), one slot per thread: admitted here, settled elsewhere
    Gateway gw = gateway(List.of(), reject("fast", 1e6, 1e6, 1e6), queue("q", 4, 1, 1_000, 1, 10));
    ResourceGroup fast = gw.groups().get("fast");
    Ticket a = admit(gw, "fast", read("fp")).ticket();
    Ticket b = admit(gw, "fast", request(RequestKind.WRITE, "w", 100, true)).ticket();
    assertEquals(2, fast.admittedTotal());
    assertEquals(a.estimate() + b.estimate(), fast.ruAskedTotal(), EPS);
    assertEquals(a.estimate() + b.estimate(), fast.ruChargedTotal(), EPS);
    a.dispatched(backend);
    b.dispatched(backend);
    clock.advanceMillis(4);
    Thread other = new Thread(() -> {
      a.complete(Outcome.OK, 1024); // 1 + 1 + 0.5 * 4 = 4 RU
      b.complete(Outcome.OK, 0); // 6 + 100 / 4096 + 2
    });
    other.start();
    other.join(10_000);
    assertTrue(!other.isAlive());
    double writeRu = 6 + 100.0 / 4096 + 2;
    assertEquals(4.0 + writeRu, fast.ruChargedTotal(), 1e-9, "settled to the real cost on the other thread");
    assertEquals(4.0, fast.meanReadRu(), EPS, "the read, and only the read, feeds the read mean");

    ResourceGroup q = gw.groups().get("q");
    Ticket first = admit(gw, "q", read(null)).ticket();
    Answer waiting = admit(gw, "q", read(null));
    Answer full = admit(gw, "q", read(null));
    assertNotNull(full.refusal());
    double e = first.estimate();
    assertEquals(3 * e, q.ruAskedTotal(), EPS, "granted, queued and refused: each asked once");
    assertEquals(2 * e, q.ruChargedTotal(), EPS, "the queued one charged when it reserved");
    assertEquals(1, q.admittedTotal(), "the queued one not yet");
    scheduler.advanceMillis(1_000);
    assertNotNull(waiting.ticket());
    assertEquals(2, q.admittedTotal());
    assertEquals(3 * e, q.ruAskedTotal(), EPS);
  }

  @Test
  void aShareLimitsAdmissionToItsRate() {
    Gateway gw = gateway(List.of(), reject("g", 100, 100, 100));
    ResourceGroup g = gw.groups().get("g");
    g.share(10);
    assertEquals(10.0, g.bucket().capacity(), EPS, "burst shrinks with the share");
    int admitted = 0;
    for (int i = 0; i < 50; i++) {
      if (admit(gw, "g", read(null)).ticket() != null) {
        admitted++;
      }
    }
    assertEquals(10, admitted, "a tenth of the limit: a tenth of the burst");
  }

  // ---- hints ----

  @Test
  void hintsOverrideGroupAndPriorityOnlyWhenTheTenantAllowsThem() {
    Gateway gw = gateway(List.of(), group("g", Priority.HIGH), group("batch", Priority.NORMAL));
    Request hinted = read("fp").hints(HintParser.fromSql(SqlDialect.POSTGRES,
        "/* mproxy: group=batch priority=low timeout_ms=250 */ SELECT 1"));
    Answer allowed = new Answer();
    gw.admit(hinted, new Classification("g", Priority.HIGH, true, 0), ORIGIN, W, scheduler, allowed);
    assertEquals("batch", allowed.ticket().group());
    assertEquals(Priority.LOW, hinted.priority());
    assertEquals(clock.nanoTime() + 250 * MS, hinted.deadlineNanos());

    Request ignored = read("fp").hints(HintParser.fromSql(SqlDialect.POSTGRES,
        "/* mproxy: group=batch priority=low timeout_ms=250 */ SELECT 1"));
    Answer notAllowed = new Answer();
    gw.admit(ignored, new Classification("g", Priority.HIGH, false, 0), ORIGIN, W, scheduler, notAllowed);
    assertEquals("g", notAllowed.ticket().group());
    assertEquals(Priority.HIGH, ignored.priority());
    assertEquals(0, ignored.deadlineNanos());

    assertNotNull(admit(gw, "g", read("fp")).ticket());
    assertEquals(List.of("batch:applied", "g:ignored"), telemetry.hints, "a request without hints is not counted");
  }

  // ---- helpers ----

  private Request read(String fingerprint) {
    return request(RequestKind.READ, fingerprint, 32, true);
  }

  private Request request(RequestKind kind, String fingerprint, long bytesIn, boolean latencyCharged) {
    return new Request(TENANT, kind, kind.name(), fingerprint, bytesIn, clock.nanoTime(), latencyCharged);
  }

  private Answer admit(Gateway gw, String group, Request request) {
    Answer a = new Answer();
    gw.admit(request, new Classification(group, Priority.NORMAL, false, 0), ORIGIN, W, scheduler, a);
    return a;
  }

  private Gateway gateway(List<TenantRule> tenants, ResourceGroupConfig... groups) {
    return new Gateway(config(tenants, groups), clock, telemetry, new FingerprintStore(1_000));
  }

  private static ProxyConfig config(List<TenantRule> tenants, ResourceGroupConfig... groups) {
    Map<String, ResourceGroupConfig> byName = new HashMap<>();
    for (ResourceGroupConfig g : groups) {
      byName.put(g.name(), g);
    }
    return new ProxyConfig(new ServerSettings(10_000, 1, 100, false), AdminConfig.DEFAULT, List.of(),
        Map.of(), byName, tenants);
  }

  private static ResourceGroupConfig reject(String name, double rate, double burst, double maxDebt) {
    return new ResourceGroupConfig(name, rate, burst, Priority.NORMAL, OnExhausted.REJECT, 0, 0, maxDebt);
  }

  private static ResourceGroupConfig queue(String name, double rate, double burst, long maxQueueMs,
      int maxQueued, double maxDebt) {
    return new ResourceGroupConfig(name, rate, burst, Priority.NORMAL, OnExhausted.QUEUE, maxQueueMs,
        maxQueued, maxDebt);
  }

  private static ResourceGroupConfig group(String name, Priority priority) {
    return new ResourceGroupConfig(name, 1_000, 1_000, priority, OnExhausted.REJECT, 0, 0, 1_000);
  }

  /** Records the single answer admission gives; fails on a second one. */
  private static final class Answer implements AdmissionCallback {
    private final List<Object> answers = new ArrayList<>();

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

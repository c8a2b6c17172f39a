package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.mproxy.core.config.RunawayConfig;
import io.mproxy.core.config.RunawayRule;
import io.mproxy.core.config.RunawayRule.Action;
import io.mproxy.core.config.RunawayRule.Mode;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Runaway rules through the real Gateway on a manual clock: detection, each action, cooldown, reload. */
class RunawayTest {

  private static final TenantIdentity TENANT = new TenantIdentity("l1", "alice", "db", "app");
  private static final Origin ORIGIN = new Origin("l1", "postgres");
  private static final String SLOW = "SELECT pg_sleep($1)";
  private static final String FAST = "SELECT $1";

  private final ManualClock clock = new ManualClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final RecordingTelemetry telemetry = new RecordingTelemetry();
  private final Backend backend =
      new Backend(new BackendConfig(new HostPort("127.0.0.1", 1), BackendConfig.Role.PRIMARY), clock);

  private static RunawayRule rule(String name, String fp, long elapsedMs, Action action, Mode mode) {
    return new RunawayRule(name, fp, null, 0, elapsedMs, action, 0, 1_000, mode);
  }

  @Test
  void aRejectRuleRefusesAWatchedFingerprintUntilItsCooldownPasses() {
    Gateway gw = gateway(rule("slow", null, 100, Action.REJECT, Mode.ENFORCE));
    run(gw, SLOW, 150);
    Refusal r = admit(gw, SLOW).refusal;
    assertNotNull(r, "the fingerprint broke the rule: refused");
    assertEquals(ShedReason.RUNAWAY, r.reason());
    assertTrue(r.message().startsWith("mproxy: rejected group=g reason=runaway"), r.message());
    assertTrue(r.message().contains("runaway rule slow"), r.message());
    assertNotNull(admit(gw, FAST).ticket, "other fingerprints are untouched");
    assertTrue(telemetry.shed.stream().anyMatch(s -> s.reason() == ShedReason.RUNAWAY));
    assertEquals(List.of("slow/reject/enforce"), telemetry.runaway);
    clock.advanceMillis(1_001);
    gw.tick();
    assertNotNull(admit(gw, SLOW).ticket, "released after the cooldown");
  }

  @Test
  void aRunningRequestIsJudgedByTheTickNotOnlyWhenItEnds() {
    Gateway gw = gateway(rule("slow", null, 100, Action.REJECT, Mode.ENFORCE));
    Ticket t = admit(gw, SLOW).ticket;
    t.dispatched(backend);
    clock.advanceMillis(99);
    gw.tick();
    assertNotNull(admit(gw, SLOW).ticket, "not over the threshold yet");
    clock.advanceMillis(2);
    gw.tick();
    assertNotNull(admit(gw, SLOW).refusal, "over the threshold while still running: watched at this tick");
    t.complete(Outcome.OK, 0);
    assertEquals(1, telemetry.runaway.size(), "one violation counted once, not again at completion");
  }

  @Test
  void aCancelRuleRunsTheSessionsHookOnceFromTheTick() {
    Gateway gw = gateway(rule("kill", SLOW, 100, Action.CANCEL, Mode.ENFORCE));
    AtomicInteger cancels = new AtomicInteger();
    Ticket slow = admit(gw, SLOW).ticket;
    slow.dispatched(backend);
    slow.onCancel(cancels::incrementAndGet);
    Ticket fast = admit(gw, FAST).ticket;
    fast.dispatched(backend);
    AtomicInteger fastCancels = new AtomicInteger();
    fast.onCancel(fastCancels::incrementAndGet);
    clock.advanceMillis(101);
    gw.tick();
    gw.tick();
    assertEquals(1, cancels.get());
    assertTrue(slow.cancelRequested());
    assertEquals(0, fastCancels.get(), "the rule names another fingerprint");
    assertEquals(List.of("kill/cancel/enforce"), telemetry.runaway);
    assertNotNull(admit(gw, SLOW).ticket, "cancel does not refuse new requests");
  }

  @Test
  void aShadowCancelRuleCountsAndDoesNotCancel() {
    Gateway gw = gateway(rule("kill", SLOW, 100, Action.CANCEL, Mode.SHADOW));
    AtomicInteger cancels = new AtomicInteger();
    Ticket slow = admit(gw, SLOW).ticket;
    slow.dispatched(backend);
    slow.onCancel(cancels::incrementAndGet);
    clock.advanceMillis(101);
    gw.tick();
    assertEquals(0, cancels.get());
    assertEquals(List.of("kill/cancel/shadow"), telemetry.runaway);
  }

  @Test
  void aShadowRejectRuleAdmitsAndCountsWouldShed() {
    Gateway gw = gateway(rule("slow", null, 100, Action.REJECT, Mode.SHADOW));
    run(gw, SLOW, 150);
    assertNotNull(admit(gw, SLOW).ticket);
    assertEquals(List.of("slow/reject/shadow"), telemetry.runaway);
    assertEquals(ShedReason.RUNAWAY, telemetry.wouldShed.get(0).reason());
  }

  @Test
  void aWatchRuleOnlyCounts() {
    Gateway gw = gateway(rule("w", null, 100, Action.WATCH, Mode.ENFORCE));
    run(gw, SLOW, 150);
    run(gw, SLOW, 150);
    assertNotNull(admit(gw, SLOW).ticket);
    assertEquals(List.of("w/watch/enforce", "w/watch/enforce"), telemetry.runaway);
    assertEquals(1, gw.runawayWatched());
  }

  @Test
  void demoteRunsAWatchedFingerprintAtLow() {
    Gateway gw = gateway(rule("d", null, 100, Action.DEMOTE, Mode.ENFORCE));
    run(gw, SLOW, 150);
    Ticket t = admit(gw, SLOW).ticket;
    assertEquals(Priority.LOW, t.request().priority());
    assertEquals(Priority.NORMAL, admit(gw, FAST).ticket.request().priority());
  }

  @Test
  void throttleCapsAWatchedFingerprintsRuPerSecond() {
    RunawayRule r = new RunawayRule("t", SLOW, null, 0, 0, Action.THROTTLE, 2, 1_000, Mode.ENFORCE);
    Gateway gw = gateway(r);
    int admitted = 0;
    int refused = 0;
    for (int i = 0; i < 10; i++) {
      Answer a = admit(gw, SLOW);
      if (a.ticket != null) {
        admitted++;
        a.ticket.complete(Outcome.OK, 0);
      } else {
        refused++;
        assertEquals(ShedReason.RUNAWAY, a.refusal.reason());
      }
    }
    assertEquals(2, admitted, "2 RU/s with a 1 RU estimate: two at once");
    assertEquals(8, refused);
    clock.advanceMillis(500);
    assertNotNull(admit(gw, SLOW).ticket, "one more RU after half a second");
  }

  @Test
  void aRuThresholdUsesTheCompletedRequestsRu() {
    RunawayRule r = new RunawayRule("ru", null, "g", 50, 0, Action.REJECT, 0, 1_000, Mode.ENFORCE);
    Gateway gw = gateway(r);
    run(gw, FAST, 20); // 20 ms at w_latency 0.5 = 10 RU: under
    assertNotNull(admit(gw, FAST).ticket);
    run(gw, SLOW, 200); // 100 RU: over
    assertNotNull(admit(gw, SLOW).refusal);
  }

  @Test
  void aReloadThatDropsTheRuleReleasesItsFingerprints() {
    RunawayRule r = rule("slow", null, 100, Action.REJECT, Mode.ENFORCE);
    Gateway gw = gateway(r);
    run(gw, SLOW, 150);
    assertNotNull(admit(gw, SLOW).refusal);
    gw.reconfigure(config(), 2);
    assertNotNull(admit(gw, SLOW).ticket);
    gw.reconfigure(config(r), 3);
    assertNotNull(admit(gw, SLOW).ticket, "a re-added rule starts with nothing watched");
  }

  @Test
  void aRuleMayNameTheFingerprintById() {
    RunawayRule r = new RunawayRule("id", FingerprintStore.id(SLOW), null, 0, 0, Action.REJECT, 0, 1_000,
        Mode.ENFORCE);
    Gateway gw = gateway(r);
    assertNotNull(admit(gw, SLOW).refusal);
    assertNull(admit(gw, FAST).refusal);
    assertFalse(telemetry.runaway.isEmpty());
  }

  // ---- helpers ----

  private void run(Gateway gw, String fp, long ms) {
    Ticket t = admit(gw, fp).ticket;
    assertNotNull(t, "admitted " + fp);
    t.dispatched(backend);
    clock.advanceMillis(ms);
    t.complete(Outcome.OK, 0);
  }

  private Answer admit(Gateway gw, String fp) {
    Answer a = new Answer();
    Request r = new Request(TENANT, RequestKind.READ, "SELECT", fp, 32, clock.nanoTime(), true);
    gw.admit(r, new Classification("g", Priority.NORMAL, false, 0), ORIGIN, RuWeights.DEFAULT, scheduler, a);
    return a;
  }

  private Gateway gateway(RunawayRule... rules) {
    return new Gateway(config(rules), clock, telemetry, new FingerprintStore(1_000));
  }

  private static ProxyConfig config(RunawayRule... rules) {
    ResourceGroupConfig g = new ResourceGroupConfig("g", 1e9, 1e9, Priority.NORMAL, OnExhausted.REJECT, 0, 0, 1e9);
    return new ProxyConfig(new ServerSettings(10_000, 1, 100, false), AdminConfig.DEFAULT, List.of(), Map.of(),
        Map.of("g", g), List.of(), Optional.empty(), Optional.empty(), new RunawayConfig(List.of(rules)));
  }

  private static final class Answer implements AdmissionCallback {
    Ticket ticket;
    Refusal refusal;

    @Override
    public void admitted(Ticket t) {
      ticket = t;
    }

    @Override
    public void refused(Refusal r) {
      refusal = r;
    }
  }
}

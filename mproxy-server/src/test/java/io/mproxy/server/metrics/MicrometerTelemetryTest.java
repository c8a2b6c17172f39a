package io.mproxy.server.metrics;

import static io.mproxy.server.metrics.ScrapeAssertions.assertNoSample;
import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.ShedReason;
import org.junit.jupiter.api.Test;

/** The CONTRACT metric names, labels and values after known events driven through a real Gateway. */
class MicrometerTelemetryTest {

  private final TestRuntime rt = new TestRuntime();

  @Test
  void completedRequestCountsOutcomeDurationAndRu() {
    // A read of 1024 reply bytes taking 2 ms: RU = 1 + 1024/1024 + 0.5 * 2 = 3.
    rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    String s = rt.registry.scrape();

    assertSample(s, "mproxy_requests_total{group=\"default\",listener=\"l1\",outcome=\"ok\",protocol=\"redis\"} 1.0");
    assertSample(s, "mproxy_requests_total{group=\"default\",listener=\"l1\",outcome=\"error\",protocol=\"redis\"} 0.0");
    assertSample(s, "mproxy_ru_total{group=\"default\",kind=\"read\"} 3.0");
    assertSample(s, "mproxy_ru_total{group=\"default\",kind=\"write\"} 0.0");
    assertTrue(s.contains("# TYPE mproxy_request_duration_seconds histogram"), s);
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"default\",listener=\"l1\",le=\"0.001\"} 0");
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"default\",listener=\"l1\",le=\"0.0025\"} 1");
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"default\",listener=\"l1\",le=\"60.0\"} 1");
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"default\",listener=\"l1\",le=\"+Inf\"} 1");
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"default\",listener=\"l1\"} 1");
    assertSample(s, "mproxy_request_duration_seconds_sum{group=\"default\",listener=\"l1\"} 0.002");
  }

  @Test
  void writesAreChargedAsWrite() {
    var t = rt.admit("app", RequestKind.WRITE, "SET ? ?", 4096).ticket;
    t.dispatched(rt.primary());
    rt.clock.advanceMillis(4);
    t.complete(Outcome.ERROR, 5);
    // RU = 6 + 4096 / 4096 + 0.5 * 4 = 9.
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_ru_total{group=\"default\",kind=\"write\"} 9.0");
    assertSample(s, "mproxy_requests_total{group=\"default\",listener=\"l1\",outcome=\"error\",protocol=\"redis\"} 1.0");
  }

  @Test
  void refusalCountsShedAndRejectedRequest() {
    rt.complete("report", "KEYS ?", 1, 0, Outcome.OK);
    TestRuntime.Answer refused = rt.admit("report", RequestKind.READ, "KEYS ?", 16);
    assertNull(refused.ticket);
    assertNotNull(refused.refusal);

    String s = rt.registry.scrape();
    assertSample(s, "mproxy_shed_total{group=\"batch\",priority=\"low\",reason=\"ru_limit\"} 1.0");
    assertSample(s, "mproxy_requests_total{group=\"batch\",listener=\"l1\",outcome=\"rejected\",protocol=\"redis\"} 1.0");
    assertSample(s, "mproxy_requests_total{group=\"batch\",listener=\"l1\",outcome=\"ok\",protocol=\"redis\"} 1.0");
    assertNoSample(s, "mproxy_shed_total{group=\"batch\",priority=\"low\",reason=\"codel\"}");
  }

  @Test
  void queuedAdmissionRecordsQueueWait() {
    TestRuntime.Answer first = rt.admit("slow", RequestKind.READ, "GET ?", 16);
    assertNotNull(first.ticket);
    TestRuntime.Answer second = rt.admit("slow", RequestKind.READ, "GET ?", 16);
    assertNull(second.ticket);
    assertNull(second.refusal);

    rt.scheduler.advanceMillis(1000);
    assertNotNull(second.ticket);
    String s = rt.registry.scrape();
    assertTrue(s.contains("# TYPE mproxy_queue_wait_seconds histogram"), s);
    assertSample(s, "mproxy_queue_wait_seconds_bucket{group=\"slow\",priority=\"low\",le=\"0.5\"} 0");
    assertSample(s, "mproxy_queue_wait_seconds_bucket{group=\"slow\",priority=\"low\",le=\"1.0\"} 1");
    assertSample(s, "mproxy_queue_wait_seconds_count{group=\"slow\",priority=\"low\"} 1");
    assertSample(s, "mproxy_queue_wait_seconds_sum{group=\"slow\",priority=\"low\"} 1.0");
  }

  @Test
  void configReloadsByResult() {
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_config_reloads_total{result=\"ok\"} 0.0");
    assertSample(s, "mproxy_config_reloads_total{result=\"error\"} 0.0");
    rt.telemetry.configReload(true);
    rt.telemetry.configReload(false);
    rt.telemetry.configReload(false);
    s = rt.registry.scrape();
    assertSample(s, "mproxy_config_reloads_total{result=\"ok\"} 1.0");
    assertSample(s, "mproxy_config_reloads_total{result=\"error\"} 2.0");
  }

  @Test
  void everyShedReasonAndPriorityHasItsOwnSeries() {
    for (Priority p : Priority.values()) {
      for (ShedReason r : ShedReason.values()) {
        rt.telemetry.shed("g", p, r);
      }
    }
    rt.telemetry.shed("g", Priority.HIGH, ShedReason.CODEL);
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_shed_total{group=\"g\",priority=\"high\",reason=\"codel\"} 2.0");
    assertSample(s, "mproxy_shed_total{group=\"g\",priority=\"low\",reason=\"queue_full\"} 1.0");
    assertSample(s, "mproxy_shed_total{group=\"g\",priority=\"normal\",reason=\"circuit_open\"} 1.0");
    assertSample(s, "mproxy_shed_total{group=\"g\",priority=\"normal\",reason=\"runaway\"} 1.0");
  }

  @Test
  void wouldShedAndRunawayActionsHaveTheirSeries() {
    rt.telemetry.wouldShed("g", Priority.LOW, ShedReason.CODEL);
    rt.telemetry.wouldShed("g", Priority.LOW, ShedReason.CODEL);
    rt.telemetry.wouldShed("g", Priority.NORMAL, ShedReason.RU_LIMIT);
    rt.telemetry.runawayAction("slow", "cancel", "enforce");
    rt.telemetry.runawayAction("slow", "cancel", "enforce");
    rt.telemetry.runawayAction("scan", "reject", "shadow");
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_would_shed_total{group=\"g\",priority=\"low\",reason=\"codel\"} 2.0");
    assertSample(s, "mproxy_would_shed_total{group=\"g\",priority=\"normal\",reason=\"ru_limit\"} 1.0");
    assertSample(s, "mproxy_runaway_actions_total{action=\"cancel\",mode=\"enforce\",rule=\"slow\"} 2.0");
    assertSample(s, "mproxy_runaway_actions_total{action=\"reject\",mode=\"shadow\",rule=\"scan\"} 1.0");
  }

  @Test
  void metersAreRegisteredOnceAndReused() {
    rt.telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 1_000);
    int meters = rt.registry.getMeters().size();
    FunctionCounter ok = rt.registry.get("mproxy_requests").tags("outcome", "ok", "group", "g").functionCounter();
    for (int i = 0; i < 1000; i++) {
      rt.telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 1_000);
      rt.telemetry.ruCharged("g", false, 1);
    }
    rt.telemetry.ruCharged("g", true, 1);
    assertEquals(meters + 2, rt.registry.getMeters().size(), "only the two RU counters are new");
    assertSame(ok, rt.registry.get("mproxy_requests").tags("outcome", "ok", "group", "g").functionCounter());
    assertEquals(1001.0, ok.count());
    assertSample(rt.registry.scrape(), "mproxy_request_duration_seconds_count{group=\"g\",listener=\"l1\"} 1001");
  }

  @Test
  void nullLabelValuesBecomeEmpty() {
    rt.telemetry.requestCompleted(null, null, null, Outcome.TIMEOUT, 1_000);
    assertSample(rt.registry.scrape(),
        "mproxy_requests_total{group=\"\",listener=\"\",outcome=\"timeout\",protocol=\"\"} 1.0");
  }

  /** Each thread counts in its own cells; a scrape sums them exactly, including threads that ended. */
  @Test
  void countsFromSeveralThreadsAddUpExactlyIncludingThreadsThatEnded() throws Exception {
    int threads = 4;
    int perThread = 10_000;
    java.util.List<Thread> workers = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          rt.telemetry.requestCompleted("l1", "redis", "mt", i % 4 == 0 ? Outcome.ERROR : Outcome.OK, 1_000);
          rt.telemetry.ruCharged("mt", i % 2 == 0, 0.5);
        }
      });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join(60_000);
      assertEquals(false, w.isAlive(), "worker did not finish");
    }
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_requests_total{group=\"mt\",listener=\"l1\",outcome=\"ok\",protocol=\"redis\"} 30000.0");
    assertSample(s, "mproxy_requests_total{group=\"mt\",listener=\"l1\",outcome=\"error\",protocol=\"redis\"} 10000.0");
    assertSample(s, "mproxy_ru_total{group=\"mt\",kind=\"read\"} 10000.0");
    assertSample(s, "mproxy_ru_total{group=\"mt\",kind=\"write\"} 10000.0");
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"mt\",listener=\"l1\"} " + threads * perThread);
    rt.telemetry.requestCompleted("l1", "redis", "mt", Outcome.OK, 1_000); // and this thread adds to them
    assertSample(rt.registry.scrape(),
        "mproxy_requests_total{group=\"mt\",listener=\"l1\",outcome=\"ok\",protocol=\"redis\"} 30001.0");
  }
}

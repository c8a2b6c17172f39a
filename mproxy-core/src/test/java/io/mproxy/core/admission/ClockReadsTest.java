package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A request reads the clock once per phase (admission, dispatch, completion) and every part of
 * core that needs the time of that phase gets that reading: the token bucket, the ticket, the
 * balancer, settlement, telemetry. Each reading is a {@code System.nanoTime()} in production,
 * and session 5 counted about ten per Redis request.
 */
class ClockReadsTest {

  private static final long MS = 1_000_000L;
  private static final TenantIdentity TENANT = new TenantIdentity("l1", "alice", "db", "app");
  private static final Origin ORIGIN = new Origin("l1", "redis");

  /** Counts readings; advancing is done on the manual clock underneath. */
  private static final class CountingClock implements Clock {
    final ManualClock time = new ManualClock();
    int reads;

    @Override
    public long nanoTime() {
      reads++;
      return time.nanoTime();
    }

    @Override
    public long wallMillis() {
      return time.wallMillis();
    }
  }

  private final CountingClock clock = new CountingClock();
  private final RecordingTelemetry telemetry = new RecordingTelemetry();
  private final Backend backend =
      new Backend(new BackendConfig(new HostPort("127.0.0.1", 1), BackendConfig.Role.PRIMARY), clock);

  @Test
  void oneReadingPerPhaseAndEveryoneSeesTheSameTimes() {
    Gateway gw = new Gateway(config(), clock, telemetry, new FingerprintStore(100));
    ManualScheduler scheduler = new ManualScheduler(clock.time);
    for (int round = 0; round < 3; round++) {
      clock.time.advanceMillis(1);
      long arrival = clock.time.nanoTime();
      Request request = new Request(TENANT, RequestKind.READ, "GET", "GET ?", 30, arrival, true);
      clock.time.advanceMillis(2);
      Ticket[] ticket = new Ticket[1];
      clock.reads = 0;
      gw.admit(request, new Classification("g", Priority.NORMAL, false, 0), ORIGIN, RuWeights.DEFAULT,
          scheduler, new AdmissionCallback() {
            @Override
            public void admitted(Ticket t) {
              ticket[0] = t;
            }

            @Override
            public void refused(Refusal refusal) {
              throw new AssertionError(refusal.message());
            }
          });
      assertNotNull(ticket[0]);
      assertEquals(1, clock.reads, "admission");

      clock.time.advanceMillis(3);
      backend.circuit(null);
      ticket[0].dispatched(backend);
      assertEquals(2, clock.reads, "dispatch");

      clock.time.advanceMillis(5);
      ticket[0].complete(Outcome.OK, 20);
      assertEquals(3, clock.reads, "completion: settlement, balancer, telemetry share one reading");

      assertEquals(5.0 * MS, backend.latencyEwmaNanos(), 1e-6, "the balancer's latency is dispatch to end");
      RecordingTelemetry.Completed done = telemetry.completed.get(telemetry.completed.size() - 1);
      assertEquals((2 + 3 + 5) * MS, done.durationNanos(), "telemetry's duration is arrival to end");
      assertEquals(Outcome.OK, done.outcome());
    }
    assertEquals(3, backend.completed());
    assertEquals(0, backend.inflight());
  }

  private static ProxyConfig config() {
    ResourceGroupConfig g = new ResourceGroupConfig("g", 1_000, 1_000, Priority.NORMAL, OnExhausted.REJECT,
        0, 0, 1_000);
    return new ProxyConfig(new ServerSettings(10_000, 1, 100, false), AdminConfig.DEFAULT, List.of(),
        Map.of(), Map.of("g", g), List.of());
  }
}

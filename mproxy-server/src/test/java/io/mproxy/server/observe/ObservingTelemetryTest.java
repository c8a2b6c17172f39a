package io.mproxy.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.RandomSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tracing is sampled by the injected randomness, at the configured ratio, and can be removed. */
class ObservingTelemetryTest {

  @Test
  void tracesExactlyTheRequestsWhoseDrawFallsUnderTheRatio() {
    double[] draws = {0.1, 0.3, 0.24, 0.9, 0.0, 0.25};
    int[] next = {0};
    RandomSource random = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        throw new AssertionError("not used");
      }

      @Override
      public double nextDouble() {
        return draws[next[0]++];
      }
    };
    ObservingTelemetry t = new ObservingTelemetry(Telemetry.NOOP, random);
    Recorder rec = new Recorder(0.25);
    t.tracer(rec);
    for (int i = 0; i < draws.length; i++) {
      Request r = new Request(new TenantIdentity("l", "u" + i, null, null), RequestKind.READ, "GET", "GET k", 10, 0, true);
      t.requestEnded(r, "l", "redis", "g", Outcome.OK, 1.0, 1_000);
    }
    assertEquals(List.of("u0", "u2", "u4"), rec.users, "draws 0.1, 0.24 and 0.0 are below 0.25");
    assertEquals(draws.length, next[0], "one draw per request with only tracing on");
    t.tracer(null);
    t.requestEnded(new Request(null, RequestKind.READ, "GET", "GET k", 10, 0, true), "l", "redis", "g",
        Outcome.OK, 1.0, 1_000);
    assertEquals(3, rec.users.size());
  }

  private static final class Recorder implements RequestTracer {
    final double ratio;
    final List<String> users = new ArrayList<>();

    Recorder(double ratio) {
      this.ratio = ratio;
    }

    @Override
    public double sampleRatio() {
      return ratio;
    }

    @Override
    public void ended(Request request, String listener, String protocol, String group, Outcome outcome,
        double ru, long endNanos) {
      users.add(request.tenant().user());
    }

    @Override
    public void close() {
    }
  }
}

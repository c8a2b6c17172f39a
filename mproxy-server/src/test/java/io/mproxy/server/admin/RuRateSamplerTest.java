package io.mproxy.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.request.Outcome;
import io.mproxy.server.metrics.TestRuntime;
import java.util.Collection;
import org.junit.jupiter.api.Test;

class RuRateSamplerTest {

  private static final long SECOND = 1_000_000_000L;

  private final TestRuntime rt = new TestRuntime();
  private final RuRateSampler sampler = new RuRateSampler(5 * SECOND, SECOND);

  @Test
  void rateIsZeroUntilTimeHasPassed() {
    assertEquals(0.0, sampler.rates(rt.clock.nanoTime(), groups()).get("default"));
  }

  @Test
  void rateCoversTheLastWindow() {
    ResourceGroup def = rt.gateway.groups().get("default");
    // 10 s of steady load: 3 requests per second, sampled every second.
    double[] totals = new double[11];
    for (int s = 0; s <= 10; s++) {
      totals[s] = def.ruChargedTotal();
      sampler.sample(rt.clock.nanoTime(), groups());
      if (s == 10) {
        break;
      }
      for (int i = 0; i < 3; i++) {
        rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
      }
      rt.clock.advanceMillis(1000 - 3 * 2);
    }
    double rate = sampler.rates(rt.clock.nanoTime(), groups()).get("default");
    assertEquals((totals[10] - totals[5]) / 5.0, rate, 1e-9);
    assertTrue(sampler.size() <= 7, "samples are bounded: " + sampler.size());
  }

  @Test
  void frequentCallsKeepFewSamples() {
    for (int i = 0; i < 10_000; i++) {
      rt.clock.advanceMillis(1);
      sampler.rates(rt.clock.nanoTime(), groups());
    }
    assertTrue(sampler.size() <= 7, "samples are bounded: " + sampler.size());
  }

  @Test
  void spacingMustFitTheWindow() {
    assertThrows(IllegalArgumentException.class, () -> new RuRateSampler(SECOND, 2 * SECOND));
  }

  private Collection<ResourceGroup> groups() {
    return rt.gateway.groups().all();
  }
}

package io.mproxy.core.share;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DemandEwmaTest {

  private static final long SEC = 1_000_000_000L;

  @Test
  void theFirstSampleIsOnlyABaseline() {
    DemandEwma e = new DemandEwma(SEC);
    assertEquals(0, e.sample(5_000, 0));
  }

  @Test
  void aSteadyRateIsApproachedWithTheTimeConstant() {
    DemandEwma e = new DemandEwma(SEC);
    e.sample(0, 0);
    assertEquals(1000 * (1 - Math.exp(-1)), e.sample(1000, SEC), 1e-9);
    double total = 1000;
    for (int i = 2; i <= 20; i++) {
      total += 1000;
      e.sample(total, i * SEC);
    }
    assertEquals(1000, e.ratePerSec(), 1e-3);
  }

  @Test
  void theEstimateDoesNotDependOnTheSamplingInterval() {
    DemandEwma coarse = new DemandEwma(SEC);
    DemandEwma fine = new DemandEwma(SEC);
    coarse.sample(0, 0);
    fine.sample(0, 0);
    coarse.sample(500, SEC);
    for (int i = 1; i <= 10; i++) {
      fine.sample(50 * i, i * SEC / 10);
    }
    assertEquals(coarse.ratePerSec(), fine.ratePerSec(), 1e-6);
  }

  @Test
  void demandDecaysWhenNothingIsAsked() {
    DemandEwma e = new DemandEwma(SEC);
    e.sample(0, 0);
    e.sample(1000, SEC);
    double before = e.ratePerSec();
    assertEquals(before * Math.exp(-2), e.sample(1000, 3 * SEC), 1e-9);
  }

  @Test
  void aTotalGoingBackwardsRestartsTheBaselineWithoutANegativeRate() {
    DemandEwma e = new DemandEwma(SEC);
    e.sample(0, 0);
    e.sample(1000, SEC);
    double before = e.ratePerSec();
    assertEquals(before, e.sample(10, 2 * SEC), 1e-9);
    assertEquals(before * Math.exp(-1), e.sample(10, 3 * SEC), 1e-9);
  }

  @Test
  void noTimeElapsedChangesNothing() {
    DemandEwma e = new DemandEwma(SEC);
    e.sample(0, 0);
    e.sample(1000, SEC);
    double before = e.ratePerSec();
    assertEquals(before, e.sample(5000, SEC));
  }

  @Test
  void rejectsANonPositiveTimeConstant() {
    assertThrows(IllegalArgumentException.class, () -> new DemandEwma(0));
  }
}

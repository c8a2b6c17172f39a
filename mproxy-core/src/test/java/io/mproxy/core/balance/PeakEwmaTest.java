package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PeakEwmaTest {

  private static final long TAU = 1_000_000_000L;

  private final PeakEwma ewma = new PeakEwma(TAU);

  @Test
  void isZeroBeforeTheFirstSampleWhichItTakesAsIs() {
    assertEquals(0.0, ewma.valueNanos());
    ewma.observe(5_000, 0);
    assertEquals(5_000.0, ewma.valueNanos());
  }

  @Test
  void jumpsToAHigherSampleAtOnce() {
    ewma.observe(1_000, 0);
    ewma.observe(50_000, 1);
    assertEquals(50_000.0, ewma.valueNanos(), "no averaging upwards: a slowdown is seen immediately");
  }

  @Test
  void decaysTowardsALowerSampleWithTheTimeConstant() {
    ewma.observe(10_000, 0);
    ewma.observe(0, TAU);
    assertEquals(10_000 * Math.exp(-1), ewma.valueNanos(), 1e-6);
    ewma.observe(0, 2 * TAU);
    assertEquals(10_000 * Math.exp(-2), ewma.valueNanos(), 1e-6);
  }

  @Test
  void aLowerSampleWithNoTimeElapsedChangesNothing() {
    ewma.observe(10_000, 100);
    ewma.observe(1, 100);
    assertEquals(10_000.0, ewma.valueNanos(), 1e-9);
  }

  @Test
  void forgivesSlowlyButSurely() {
    ewma.observe(100_000, 0);
    double previous = ewma.valueNanos();
    for (int i = 1; i <= 100; i++) {
      ewma.observe(1_000, i * (TAU / 10));
      assertTrue(ewma.valueNanos() < previous, "sample " + i);
      assertTrue(ewma.valueNanos() >= 1_000, "never below the samples");
      previous = ewma.valueNanos();
    }
    // 10 time constants: within e^-10 of the gap
    assertEquals(1_000.0, ewma.valueNanos(), 99_000 * Math.exp(-10) + 1e-6);
    double afterOneTau = 1_000 + 99_000 * Math.exp(-1);
    PeakEwma other = new PeakEwma(TAU);
    other.observe(100_000, 0);
    for (int i = 1; i <= 10; i++) {
      other.observe(1_000, i * (TAU / 10));
    }
    assertEquals(afterOneTau, other.valueNanos(), 1e-6, "ten small steps decay like one step of the same length");
  }
}

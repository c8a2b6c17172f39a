package io.mproxy.core.ru;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.config.RuWeights;
import org.junit.jupiter.api.Test;

class RuCostTest {

  private static final double EPS = 1e-9;
  private static final RuWeights DEFAULT = RuWeights.DEFAULT;
  private static final RuWeights CUSTOM = new RuWeights(0.01, 3.0, 2.0);

  @Test
  void defaultWeightsAreOneRuPerKibReadOnePerFourKibWrittenHalfPerMillisecond() {
    assertEquals(1.0 / 1024.0, DEFAULT.wRead(), EPS);
    assertEquals(1.0, DEFAULT.wWrite(), EPS);
    assertEquals(0.5, DEFAULT.wLatency(), EPS);
  }

  @Test
  void readIsOnePlusReplyBytesPlusLatencyWithDefaultWeights() {
    // 1 + 2048/1024 + 0.5 * 10
    assertEquals(8.0, RuCost.of(DEFAULT, false, 123, 2048, 10.0), EPS);
  }

  @Test
  void writeIsSixPlusRequestBytesPerFourKibPlusLatencyWithDefaultWeights() {
    // 6 + 1 * 8192/4096 + 0.5 * 10
    assertEquals(13.0, RuCost.of(DEFAULT, true, 8192, 999_999, 10.0), EPS);
  }

  @Test
  void readIgnoresRequestBytesAndWriteIgnoresReplyBytes() {
    assertEquals(RuCost.of(DEFAULT, false, 0, 4096, 3), RuCost.of(DEFAULT, false, 1 << 20, 4096, 3), EPS);
    assertEquals(RuCost.of(DEFAULT, true, 4096, 0, 3), RuCost.of(DEFAULT, true, 4096, 1 << 20, 3), EPS);
  }

  @Test
  void customWeightsScaleEachTerm() {
    // read: 1 + 0.01 * 500 + 2 * 7
    assertEquals(20.0, RuCost.of(CUSTOM, false, 0, 500, 7.0), EPS);
    // write: 6 + 3 * 2048/4096 + 2 * 7
    assertEquals(21.5, RuCost.of(CUSTOM, true, 2048, 0, 7.0), EPS);
  }

  @Test
  void emptyInstantRequestsCostTheirBase() {
    assertEquals(1.0, RuCost.of(DEFAULT, false, 0, 0, 0), EPS);
    assertEquals(6.0, RuCost.of(DEFAULT, true, 0, 0, 0), EPS);
  }

  @Test
  void fullChargeIsBytesPartPlusLatencyTerm() {
    assertEquals(1.0 + 0.01 * 300, RuCost.bytesPart(CUSTOM, false, 0, 300), EPS);
    assertEquals(6.0 + 3.0 * 1024 / 4096.0, RuCost.bytesPart(CUSTOM, true, 1024, 0), EPS);
    assertEquals(2.0 * 12.5, RuCost.latency(CUSTOM, 12.5), EPS);
    assertEquals(RuCost.bytesPart(CUSTOM, false, 0, 300) + RuCost.latency(CUSTOM, 12.5),
        RuCost.of(CUSTOM, false, 0, 300, 12.5), EPS);
  }

  @Test
  void readEstimateIsTheFingerprintMeanWhenThereIsOne() {
    assertEquals(42.5, RuCost.estimate(DEFAULT, false, 100, 42.5), EPS);
    assertEquals(0.25, RuCost.estimate(DEFAULT, false, 100, 0.25), EPS);
  }

  @Test
  void readEstimateIsTheBaseWithoutAFingerprintMean() {
    assertEquals(1.0, RuCost.estimate(DEFAULT, false, 100, 0), EPS);
    assertEquals(1.0, RuCost.estimate(DEFAULT, false, 100, -3), EPS);
  }

  @Test
  void writeEstimateIsBasePlusRequestBytesWhateverTheFingerprintMean() {
    assertEquals(7.0, RuCost.estimate(DEFAULT, true, 4096, 100.0), EPS);
    assertEquals(6.0, RuCost.estimate(DEFAULT, true, 0, 0), EPS);
    assertEquals(6.0 + 3.0 * 3, RuCost.estimate(CUSTOM, true, 3 * 4096, 0), EPS);
  }
}

package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.mproxy.testkit.DecoderFuzzHarness;
import java.util.ArrayList;
import java.util.List;

/**
 * How every decoder's Jazzer test reads its input: up to 12 read boundaries first, then the
 * bytes, so that the fuzzer steers both what arrives and how it is cut into reads.
 */
record JazzerInput(List<byte[]> chunks) {

  static JazzerInput of(FuzzedDataProvider data) {
    int reads = data.consumeInt(0, 12);
    List<Integer> cuts = new ArrayList<>(reads);
    for (int i = 0; i < reads; i++) {
      cuts.add(data.consumeInt(0, Integer.MAX_VALUE));
    }
    byte[] bytes = data.consumeRemainingAsBytes();
    return new JazzerInput(DecoderFuzzHarness.split(bytes, cuts));
  }
}

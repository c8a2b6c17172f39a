package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoFrameDecoder;
import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link MongoFrameDecoder} as the Mongo adapter installs it,
 * with the same checks as the jqwik fuzz tests ({@link DecoderFuzzHarness}: no foreign exception,
 * no leaked buffer, nothing buffered past one frame, nothing after an error). The input is split
 * into reads at points the fuzzer chooses too.
 *
 * <p>In the normal test run this is a regression test: it replays the seeds in
 * {@code MongoDecoderJazzerTestInputs/frames/} (and any crash Jazzer saved there). With
 * {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration}; see docs/reliability.md.
 */
class MongoDecoderJazzerTest {

  private static final int MAX_MESSAGE = 4096;

  @BeforeAll
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterAll
  static void report() {
    DecoderFuzzHarness.afterContainer("MongoDecoderJazzerTest");
  }

  @FuzzTest(maxDuration = "60s")
  void frames(FuzzedDataProvider data) {
    int reads = data.consumeInt(0, 12);
    List<Integer> cuts = new ArrayList<>(reads);
    for (int i = 0; i < reads; i++) {
      cuts.add(data.consumeInt(0, Integer.MAX_VALUE));
    }
    byte[] bytes = data.consumeRemainingAsBytes();
    DecoderFuzzHarness.run(new MongoFrameDecoder(MAX_MESSAGE), DecoderFuzzHarness.split(bytes, cuts), MAX_MESSAGE,
        MongoCodecException.class::isInstance, message -> {
          try {
            return DecoderFuzzHarness.bytes(((MongoFrame) message).content());
          } finally {
            ReferenceCountUtil.release(message);
          }
        });
  }
}

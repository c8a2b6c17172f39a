package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mproxy.protocol.mysql.codec.MysqlCodecException;
import io.mproxy.protocol.mysql.codec.MysqlFrameDecoder;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.testkit.DecoderFuzzHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link MysqlFrameDecoder} (packets, including ones split
 * over 16 MiB chunks, from the client), with the checks of the jqwik {@code MysqlDecoderFuzzTest}
 * ({@link DecoderFuzzHarness}: only {@link MysqlCodecException} may escape, no leaked buffer,
 * nothing buffered past one packet, nothing after an error).
 *
 * <p>In the normal test run it replays the seeds in {@code MysqlDecoderJazzerTestInputs/packets/};
 * with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (docs/reliability.md).
 */
class MysqlDecoderJazzerTest {

  private static final int MAX_PACKET = 4096;

  @BeforeAll
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterAll
  static void report() {
    DecoderFuzzHarness.afterContainer("MysqlDecoderJazzerTest");
  }

  @FuzzTest(maxDuration = "60s")
  void packets(FuzzedDataProvider data) {
    JazzerInput input = JazzerInput.of(data);
    DecoderFuzzHarness.run(new MysqlFrameDecoder(MAX_PACKET), input.chunks(), MAX_PACKET + 4,
        MysqlCodecException.class::isInstance, message -> {
          MysqlPacket packet = (MysqlPacket) message;
          try {
            return DecoderFuzzHarness.bytes(packet.raw());
          } finally {
            packet.release();
          }
        });
  }
}

package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mproxy.protocol.cassandra.codec.CqlCodecException;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of the client-side {@link CqlFrameDecoder}: v3/v4 envelopes,
 * and after a v5 STARTUP the v5 segment framing (as the session switches it), with the checks of
 * the jqwik {@code CqlDecoderFuzzTest} ({@link DecoderFuzzHarness}: only
 * {@link CqlCodecException} may escape, no leaked buffer, at most one frame or segment buffered,
 * nothing after an error).
 *
 * <p>In the normal test run it replays the seeds in {@code CqlDecoderJazzerTestInputs/frames/};
 * with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (docs/reliability.md).
 */
class CqlDecoderJazzerTest {

  private static final int MAX_BODY = 4096;
  /**
   * A v5 segment may be larger than the body limit: the decoder holds at most one (6-byte header,
   * payload, 4-byte CRC32 trailer; protocol v5 spec section 2).
   */
  private static final int MAX_BUFFERED = Math.max(MAX_BODY + 9, 6 + CqlFrameDecoder.MAX_SEGMENT_PAYLOAD + 4);

  @BeforeAll
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterAll
  static void report() {
    DecoderFuzzHarness.afterContainer("CqlDecoderJazzerTest");
  }

  @FuzzTest(maxDuration = "60s")
  void frames(FuzzedDataProvider data) {
    JazzerInput input = JazzerInput.of(data);
    CqlFrameDecoder decoder = new CqlFrameDecoder(false, MAX_BODY);
    DecoderFuzzHarness.run(decoder, input.chunks(), MAX_BUFFERED, CqlCodecException.class::isInstance,
        message -> {
          CqlFrame frame = (CqlFrame) message;
          try {
            if (frame.version() >= 5 && frame.opcode() == CqlOpcode.STARTUP) {
              decoder.switchToSegments();
            }
            ByteBuf out = Unpooled.buffer();
            frame.writeHeader(out);
            out.writeBytes(frame.body(), frame.body().readerIndex(), frame.body().readableBytes());
            byte[] bytes = DecoderFuzzHarness.bytes(out);
            out.release();
            return bytes;
          } finally {
            frame.release();
          }
        });
  }
}

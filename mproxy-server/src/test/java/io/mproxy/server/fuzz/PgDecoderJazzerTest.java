package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mproxy.protocol.postgres.codec.PgDecodeError;
import io.mproxy.protocol.postgres.codec.PgFrameDecoder;
import io.mproxy.protocol.postgres.codec.StartupPacket;
import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of the client-side {@link PgFrameDecoder}, with the checks of
 * the jqwik {@code PgDecoderFuzzTest} ({@link DecoderFuzzHarness}; the decoder reports errors as a
 * {@link PgDecodeError} message, so no exception may escape at all). Two entry points:
 * {@code startup} feeds a connection from its first byte (SSLRequest, CancelRequest, StartupMessage,
 * then typed messages once a StartupMessage passed, as the session switches the decoder), and
 * {@code messages} a decoder already switched to typed messages, so that the fuzzer spends its
 * time on the regular message framing too.
 *
 * <p>In the normal test run it replays the seeds in {@code PgDecoderJazzerTestInputs/<method>/};
 * with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (docs/reliability.md).
 */
class PgDecoderJazzerTest {

  private static final int MAX_MESSAGE = 16 * 1024;

  @BeforeAll
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterAll
  static void report() {
    DecoderFuzzHarness.afterContainer("PgDecoderJazzerTest");
  }

  @FuzzTest(maxDuration = "60s")
  void startup(FuzzedDataProvider data) {
    run(PgFrameDecoder.forClient(MAX_MESSAGE), JazzerInput.of(data));
  }

  @FuzzTest(maxDuration = "60s")
  void messages(FuzzedDataProvider data) {
    PgFrameDecoder decoder = PgFrameDecoder.forClient(MAX_MESSAGE);
    decoder.typed();
    run(decoder, JazzerInput.of(data));
  }

  private static void run(PgFrameDecoder decoder, JazzerInput input) {
    DecoderFuzzHarness.run(decoder, input.chunks(), MAX_MESSAGE, e -> false, message -> {
      try {
        if (message instanceof PgDecodeError) {
          return DecoderFuzzHarness.DECODE_ERROR;
        }
        if (message instanceof StartupPacket p) {
          if (p.code() == StartupPacket.CANCEL_REQUEST) {
            return null;
          }
          if (p.code() == StartupPacket.PROTOCOL_3_0) {
            decoder.typed();
          }
          ByteBuf body = p.body();
          return ByteBuffer.allocate(8 + body.readableBytes()).putInt(8 + body.readableBytes())
              .putInt(p.code()).put(DecoderFuzzHarness.bytes(body)).array();
        }
        return DecoderFuzzHarness.bytes((ByteBuf) message);
      } finally {
        ReferenceCountUtil.release(message);
      }
    });
  }
}

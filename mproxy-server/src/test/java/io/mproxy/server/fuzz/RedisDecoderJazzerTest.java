package io.mproxy.server.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mproxy.protocol.redis.codec.RespCodecException;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of the client-side {@link RespFrameDecoder} (request mode, as
 * the Redis adapter installs it), with the checks of the jqwik {@code RespDecoderFuzzTest}
 * ({@link DecoderFuzzHarness}: only {@link RespCodecException} may escape, no leaked buffer,
 * nothing buffered past one frame, nothing after an error); the fuzzer also chooses where the
 * input is split into reads.
 *
 * <p>In the normal test run it replays the seeds in {@code RedisDecoderJazzerTestInputs/commands/}
 * (and any crash Jazzer saved there); with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration}
 * (docs/reliability.md).
 */
class RedisDecoderJazzerTest {

  private static final int MAX_FRAME = 4096;

  @BeforeAll
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterAll
  static void report() {
    DecoderFuzzHarness.afterContainer("RedisDecoderJazzerTest");
  }

  @FuzzTest(maxDuration = "60s")
  void commands(FuzzedDataProvider data) {
    JazzerInput input = JazzerInput.of(data);
    DecoderFuzzHarness.run(new RespFrameDecoder(RespFrameDecoder.Mode.REQUEST, MAX_FRAME), input.chunks(), MAX_FRAME,
        RespCodecException.class::isInstance, message -> {
          try {
            return DecoderFuzzHarness.bytes(((RespFrame) message).content());
          } finally {
            ReferenceCountUtil.release(message);
          }
        });
  }
}

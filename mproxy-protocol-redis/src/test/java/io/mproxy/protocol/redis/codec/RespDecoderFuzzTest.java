package io.mproxy.protocol.redis.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile bytes against the client-side RESP decoder ({@link RespFrameDecoder.Mode#REQUEST}, as
 * {@code RedisProtocolAdapter} installs it): random bytes, RESP-looking noise, valid commands
 * split at random points, and valid commands with a bit flipped, cut short or a length replaced
 * by a huge, negative or zero value. See {@link DecoderFuzzHarness} for what every run checks.
 * Properties without explicit tries run jqwik's default (1000; {@code -Djqwik.tries.default=N} for
 * longer runs, see docs/reliability.md).
 */
class RespDecoderFuzzTest {

  private static final int MAX_FRAME = 4096;
  private static final String[] BAD_LENGTHS = {"-2", "-1", "0", String.valueOf(MAX_FRAME + 1),
      "2147483647", "2147483648", "4294967296", "9223372036854775807", "99999999999999999999",
      "-9223372036854775808", "", "?", "1x"};

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("RespDecoderFuzzTest");
  }

  @Property
  void randomBytesNeverEscapeOrLeak(@ForAll("noise") byte[] bytes, @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property
  void validCommandsSplitAnywhereDecodeToThemselves(@ForAll("commands") byte[] stream,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("valid commands refused: " + outcome.errors());
    }
    if (!Arrays.equals(stream, outcome.concatenated())) {
      throw new AssertionError("frames do not add up to the commands sent");
    }
  }

  @Property
  void mutatedCommandsNeverEscapeOrLeak(@ForAll("mutated") byte[] stream,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(stream, cuts));
  }

  @Property(tries = 500)
  void oversizedBulkIsRefusedFromItsHeader(@ForAll("oversized") String length,
      @ForAll("cuts") List<Integer> cuts) {
    byte[] header = ("*2\r\n$3\r\nSET\r\n$" + length + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] stream = Arrays.copyOf(header, header.length + 3 * MAX_FRAME);
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.errors().isEmpty() || outcome.open()) {
      throw new AssertionError("an oversized bulk length was not refused");
    }
    if (outcome.maxBuffered() > header.length) {
      throw new AssertionError("buffered " + outcome.maxBuffered() + " bytes past the header");
    }
  }

  private static DecoderFuzzHarness.Outcome run(List<byte[]> chunks) {
    return DecoderFuzzHarness.run(new RespFrameDecoder(RespFrameDecoder.Mode.REQUEST, MAX_FRAME),
        chunks, MAX_FRAME, RespCodecException.class::isInstance, message -> {
          try {
            return DecoderFuzzHarness.bytes(((RespFrame) message).content());
          } finally {
            ReferenceCountUtil.release(message);
          }
        });
  }

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().greaterOrEqual(0).list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<byte[]> noise() {
    Arbitrary<byte[]> any = Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    Arbitrary<byte[]> respish = Arbitraries.strings()
        .withChars("*$:+-\r\n0123456789?%~>|=!#_,( \"'\\abcSETGET")
        .ofMaxLength(600)
        .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    return Arbitraries.oneOf(any, respish);
  }

  @Provide
  Arbitrary<byte[]> commands() {
    Arbitrary<byte[]> arg = Arbitraries.bytes().array(byte[].class).ofMaxSize(80);
    Arbitrary<List<byte[]>> command = arg.list().ofMinSize(1).ofMaxSize(6);
    return command.list().ofMinSize(1).ofMaxSize(4).map(RespDecoderFuzzTest::encode);
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<byte[]> base = commands();
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    Arbitrary<String> length = Arbitraries.of(BAD_LENGTHS);
    return Combinators.combine(base, where, kind, length).as(RespDecoderFuzzTest::mutate);
  }

  @Provide
  Arbitrary<String> oversized() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(MAX_FRAME + 1, Integer.MAX_VALUE).map(String::valueOf),
        Arbitraries.longs().greaterOrEqual(Integer.MAX_VALUE).map(String::valueOf));
  }

  /** Flips a bit, cuts the stream short, or replaces one length (after a '*' or '$'). */
  static byte[] mutate(byte[] stream, int where, int kind, String length) {
    int at = Math.floorMod(where, stream.length);
    switch (kind) {
      case 0 -> {
        byte[] copy = stream.clone();
        copy[at] ^= (byte) (1 << (where >>> 28 & 7));
        return copy;
      }
      case 1 -> {
        return Arrays.copyOf(stream, at);
      }
      default -> {
        for (int i = 0; i < stream.length; i++) {
          int j = (at + i) % stream.length;
          if ((stream[j] == '*' || stream[j] == '$') && (j == 0 || stream[j - 1] == '\n')) {
            int end = j + 1;
            while (stream[end] != '\r') {
              end++;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(stream, 0, j + 1);
            out.writeBytes(length.getBytes(StandardCharsets.US_ASCII));
            out.write(stream, end, stream.length - end);
            return out.toByteArray();
          }
        }
        return stream;
      }
    }
  }

  static byte[] encode(List<List<byte[]>> commands) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (List<byte[]> command : commands) {
      out.writeBytes(("*" + command.size() + "\r\n").getBytes(StandardCharsets.US_ASCII));
      for (byte[] arg : command) {
        out.writeBytes(("$" + arg.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(arg);
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
    }
    return out.toByteArray();
  }
}

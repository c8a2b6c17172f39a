package io.mproxy.protocol.mongo.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
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
 * Hostile bytes against {@link MongoFrameDecoder} as {@code MongoProtocolAdapter} installs it on
 * client connections: random bytes, streams of OP_MSG and OP_QUERY messages (real ones built by
 * {@link Messages}, and ones with random bodies) split at random points, and such streams with a
 * bit flipped, cut short or a {@code messageLength} set to zero, negative, shorter than a header,
 * just over the limit or huge. See {@link DecoderFuzzHarness} for what every run checks.
 * Properties without explicit tries run jqwik's default (1000; {@code -Djqwik.tries.default=N} for
 * longer runs, see docs/reliability.md).
 */
class MongoDecoderFuzzTest {

  private static final int MAX_MESSAGE = 4096;
  private static final int[] BAD_LENGTHS = {0, -1, 1, 15, 16, MAX_MESSAGE, MAX_MESSAGE + 1,
      Integer.MAX_VALUE, Integer.MIN_VALUE, 48 * 1024 * 1024};

  /** A message stream and where its length fields are. */
  record Sample(byte[] bytes, int[] lengthOffsets) {
  }

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("MongoDecoderFuzzTest");
  }

  @Property
  void randomBytesNeverEscapeOrLeak(@ForAll("noise") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property
  void validMessagesSplitAnywhereDecodeToThemselves(@ForAll("messages") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(sample.bytes(), cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("valid messages refused: " + outcome.errors());
    }
    if (!Arrays.equals(sample.bytes(), outcome.concatenated())) {
      throw new AssertionError("frames do not add up to the bytes sent");
    }
  }

  @Property
  void mutatedMessagesNeverEscapeOrLeak(@ForAll("mutated") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property(tries = 500)
  void oversizedMessageIsRefusedFromItsHeader(@ForAll("messages") Sample sample,
      @ForAll("oversized") int length, @ForAll("cuts") List<Integer> cuts) {
    byte[] stream = Arrays.copyOf(sample.bytes(), sample.bytes().length + MAX_MESSAGE + 100);
    putIntLe(stream, sample.bytes().length, length);
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.errors().size() != 1 || outcome.open()) {
      throw new AssertionError("an oversized message was not refused");
    }
    int longestValid = 4;
    for (byte[] frame : outcome.frames()) {
      longestValid = Math.max(longestValid, frame.length);
    }
    if (outcome.maxBuffered() > longestValid + 4) {
      throw new AssertionError("buffered " + outcome.maxBuffered() + " bytes of an oversized body");
    }
  }

  private static DecoderFuzzHarness.Outcome run(List<byte[]> chunks) {
    return DecoderFuzzHarness.run(new MongoFrameDecoder(MAX_MESSAGE), chunks, MAX_MESSAGE,
        MongoCodecException.class::isInstance, message -> {
          try {
            return DecoderFuzzHarness.bytes(((MongoFrame) message).content());
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
  Arbitrary<Integer> oversized() {
    return Arbitraries.oneOf(Arbitraries.integers().between(MAX_MESSAGE + 1, Integer.MAX_VALUE),
        Arbitraries.integers().lessOrEqual(MongoFrame.HEADER_BYTES - 1));
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
  }

  @Provide
  Arbitrary<Sample> messages() {
    Arbitrary<Integer> id = Arbitraries.integers();
    Arbitrary<String> name = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12);
    Arbitrary<byte[]> real = Combinators.combine(id, name, Arbitraries.of(true, false))
        .as((requestId, n, query) -> query
            ? Messages.opQuery(requestId, "admin.$cmd", "{\"isMaster\": 1, \"c\": \"" + n + "\"}")
            : Messages.opMsg(requestId, 0, "{\"find\": \"" + n + "\", \"$db\": \"test\"}"));
    Arbitrary<byte[]> randomBody = Combinators.combine(id,
            Arbitraries.of(2013, 2004, 2012, 1, 2010),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(300))
        .as((requestId, opCode, body) -> {
          byte[] m = new byte[16 + body.length];
          putIntLe(m, 0, m.length);
          putIntLe(m, 4, requestId);
          putIntLe(m, 12, opCode);
          System.arraycopy(body, 0, m, 16, body.length);
          return m;
        });
    return Arbitraries.oneOf(real, randomBody).list().ofMinSize(1).ofMaxSize(6).map(list -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      List<Integer> offsets = new ArrayList<>();
      for (byte[] m : list) {
        offsets.add(out.size());
        out.writeBytes(m);
      }
      return new Sample(out.toByteArray(), offsets.stream().mapToInt(Integer::intValue).toArray());
    });
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    Arbitrary<Integer> length = Arbitraries.oneOf(
        Arbitraries.of(Arrays.stream(BAD_LENGTHS).boxed().toList()), Arbitraries.integers());
    return Combinators.combine(messages(), where, kind, length).as((s, w, k, len) -> {
      byte[] copy = s.bytes().clone();
      int at = Math.floorMod(w, copy.length);
      switch (k) {
        case 0 -> copy[at] ^= (byte) (1 << (w >>> 28 & 7));
        case 1 -> copy = Arrays.copyOf(copy, at);
        default -> putIntLe(copy, s.lengthOffsets()[Math.floorMod(w, s.lengthOffsets().length)], len);
      }
      return copy;
    });
  }

  static void putIntLe(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >>> 8);
    b[at + 2] = (byte) (v >>> 16);
    b[at + 3] = (byte) (v >>> 24);
  }
}

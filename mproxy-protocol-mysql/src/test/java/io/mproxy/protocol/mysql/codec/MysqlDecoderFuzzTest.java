package io.mproxy.protocol.mysql.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
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
 * Hostile bytes against {@link MysqlFrameDecoder} as {@code MysqlProtocolAdapter} installs it on
 * client connections: random bytes, valid packet streams split at random points, and valid
 * streams with a bit flipped, cut short or a length set to zero, just over the limit or the
 * 16 MB continuation marker; plus 16 MB continuation packets followed by a packet with a wrong
 * sequence id or an oversized length. See {@link DecoderFuzzHarness} for what every run checks.
 * Properties without explicit tries run jqwik's default (1000; {@code -Djqwik.tries.default=N} for
 * longer runs, see docs/reliability.md).
 */
class MysqlDecoderFuzzTest {

  private static final int MAX_PACKET = 4096;
  private static final int[] BAD_LENGTHS = {0, 1, MAX_PACKET, MAX_PACKET + 1, 0x7FFF,
      MysqlPacket.MAX_CHUNK - 1, MysqlPacket.MAX_CHUNK};

  /** A packet stream and where its length fields are. */
  record Sample(byte[] bytes, int[] lengthOffsets) {
  }

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("MysqlDecoderFuzzTest");
  }

  @Property
  void randomBytesNeverEscapeOrLeak(@ForAll("noise") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(MAX_PACKET, DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property
  void validPacketsSplitAnywhereDecodeToThemselves(@ForAll("packets") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(MAX_PACKET, DecoderFuzzHarness.split(sample.bytes(), cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("valid packets refused: " + outcome.errors());
    }
    if (!Arrays.equals(sample.bytes(), outcome.concatenated())) {
      throw new AssertionError("packets do not add up to the bytes sent");
    }
  }

  @Property
  void mutatedPacketsNeverEscapeOrLeak(@ForAll("mutated") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(MAX_PACKET, DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property(tries = 500)
  void oversizedPacketIsRefusedFromItsHeader(@ForAll("packets") Sample sample,
      @ForAll("oversized") int length, @ForAll("cuts") List<Integer> cuts) {
    byte[] stream = Arrays.copyOf(sample.bytes(), sample.bytes().length + 4 + MAX_PACKET + 100);
    int at = sample.bytes().length;
    stream[at] = (byte) length;
    stream[at + 1] = (byte) (length >>> 8);
    stream[at + 2] = (byte) (length >>> 16);
    DecoderFuzzHarness.Outcome outcome = run(MAX_PACKET, DecoderFuzzHarness.split(stream, cuts));
    if (outcome.errors().size() != 1 || outcome.open()) {
      throw new AssertionError("an oversized packet was not refused");
    }
    MysqlCodecException error = (MysqlCodecException) outcome.errors().get(0);
    if (!error.getMessage().contains("max_allowed_packet")) {
      throw new AssertionError("refused with " + error.getMessage());
    }
    int longestValid = 4;
    for (byte[] frame : outcome.frames()) {
      longestValid = Math.max(longestValid, frame.length);
    }
    if (outcome.maxBuffered() > longestValid + 4) {
      throw new AssertionError("buffered " + outcome.maxBuffered() + " bytes of an oversized body");
    }
  }

  /** 16 MB continuation chunks are held until the last one: a bad follower releases them. */
  @Property(tries = 8)
  void continuationFollowedByAnythingReleasesTheChunks(@ForAll("seqs") int nextSeq,
      @ForAll("lengths") int nextLength, @ForAll("cuts") List<Integer> cuts) {
    int max = 2 * MysqlPacket.MAX_CHUNK;
    byte[] stream = new byte[4 + MysqlPacket.MAX_CHUNK + 4 + Math.min(nextLength, 64)];
    stream[0] = (byte) 0xFF;
    stream[1] = (byte) 0xFF;
    stream[2] = (byte) 0xFF;
    stream[3] = 7;
    int at = 4 + MysqlPacket.MAX_CHUNK;
    stream[at] = (byte) nextLength;
    stream[at + 1] = (byte) (nextLength >>> 8);
    stream[at + 2] = (byte) (nextLength >>> 16);
    stream[at + 3] = (byte) nextSeq;
    DecoderFuzzHarness.Outcome outcome = run(max, DecoderFuzzHarness.split(stream, cuts));
    boolean inOrder = nextSeq == 8;
    if (!inOrder && (outcome.errors().size() != 1 || !outcome.errors().get(0).getMessage()
        .contains("out of order"))) {
      throw new AssertionError("an out-of-order continuation was not refused");
    }
    if (inOrder && nextLength <= 64 && (outcome.failed() || outcome.frames().size() != 1
        || outcome.frames().get(0).length != stream.length)) {
      throw new AssertionError("a valid continuation was refused or not joined");
    }
  }

  private static DecoderFuzzHarness.Outcome run(int max, List<byte[]> chunks) {
    return DecoderFuzzHarness.run(new MysqlFrameDecoder(max), chunks, max + 4,
        MysqlCodecException.class::isInstance, message -> {
          MysqlPacket packet = (MysqlPacket) message;
          try {
            return DecoderFuzzHarness.bytes(packet.raw());
          } finally {
            packet.release();
          }
        });
  }

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().greaterOrEqual(0).list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<Integer> seqs() {
    return Arbitraries.oneOf(Arbitraries.just(8), Arbitraries.integers().between(0, 255));
  }

  @Provide
  Arbitrary<Integer> lengths() {
    return Arbitraries.oneOf(Arbitraries.integers().between(0, 64),
        Arbitraries.of(MysqlPacket.MAX_CHUNK, MysqlPacket.MAX_CHUNK - 1));
  }

  @Provide
  Arbitrary<Integer> oversized() {
    return Arbitraries.integers().between(MAX_PACKET + 1, MysqlPacket.MAX_CHUNK);
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
  }

  @Provide
  Arbitrary<Sample> packets() {
    Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<Integer> seq = Arbitraries.integers().between(0, 255);
    return Combinators.combine(payload.list().ofMinSize(1).ofMaxSize(6), seq)
        .as((payloads, firstSeq) -> {
          List<Integer> offsets = new ArrayList<>();
          java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
          int s = firstSeq;
          for (byte[] p : payloads) {
            offsets.add(out.size());
            out.write(p.length & 0xFF);
            out.write(p.length >>> 8 & 0xFF);
            out.write(p.length >>> 16 & 0xFF);
            out.write(s++ & 0xFF);
            out.writeBytes(p);
          }
          return new Sample(out.toByteArray(), offsets.stream().mapToInt(Integer::intValue).toArray());
        });
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    Arbitrary<Integer> length = Arbitraries.oneOf(
        Arbitraries.of(Arrays.stream(BAD_LENGTHS).boxed().toList()),
        Arbitraries.integers().between(0, MysqlPacket.MAX_CHUNK));
    return Combinators.combine(packets(), where, kind, length).as((s, w, k, len) -> {
      byte[] copy = s.bytes().clone();
      int at = Math.floorMod(w, copy.length);
      switch (k) {
        case 0 -> copy[at] ^= (byte) (1 << (w >>> 28 & 7));
        case 1 -> copy = Arrays.copyOf(copy, at);
        default -> {
          int off = s.lengthOffsets()[Math.floorMod(w, s.lengthOffsets().length)];
          copy[off] = (byte) (int) len;
          copy[off + 1] = (byte) (len >>> 8);
          copy[off + 2] = (byte) (len >>> 16);
        }
      }
      return copy;
    });
  }
}

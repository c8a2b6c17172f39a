package io.mproxy.protocol.cassandra.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
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
 * Hostile bytes against the client side of {@link CqlFrameDecoder} with LZ4 negotiated: v4
 * conversations of compressed frames and v5 conversations of compressed segments (made by
 * {@link CqlFrameEncoder}, mostly compressible bodies so LZ4 blocks are real), split anywhere,
 * must decode to their envelopes; with a bit flipped or cut short, and random bytes after a
 * STARTUP, they must end in a {@link CqlCodecException} or frames, never another exception, a
 * leak or a buffer past the limit (see {@link DecoderFuzzHarness}).
 */
class Lz4DecoderFuzzTest {

  private static final int MAX_BODY = 4096;
  private static final int MAX_BUFFERED = CqlFrameDecoder.LZ4_SEGMENT_HEADER_BYTES
      + CqlFrameDecoder.MAX_SEGMENT_PAYLOAD + CqlFrameDecoder.SEGMENT_TRAILER_BYTES;

  record Sample(byte[] bytes, byte[] envelopes) {
  }

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("Lz4DecoderFuzzTest");
  }

  @Property(tries = 300)
  void compressedConversationsSplitAnywhereDecodeToTheirEnvelopes(@ForAll("conversations") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(sample.bytes(), cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("a valid compressed conversation was refused: " + outcome.errors());
    }
    if (!Arrays.equals(sample.envelopes(), outcome.concatenated())) {
      throw new AssertionError("frames do not add up to the envelopes sent");
    }
  }

  @Property(tries = 500)
  void mutatedCompressedConversationsNeverEscapeOrLeak(@ForAll("mutated") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property(tries = 300)
  void randomBytesAfterStartupNeverEscapeOrLeak(@ForAll("versions") int version,
      @ForAll("noise") byte[] noise, @ForAll("cuts") List<Integer> cuts) {
    byte[] startup = CqlDecoderFuzzTest.envelope(version, 0, CqlOpcode.STARTUP, new byte[] {0, 0});
    run(DecoderFuzzHarness.split(CqlDecoderFuzzTest.concat(startup, noise), cuts));
  }

  private static DecoderFuzzHarness.Outcome run(List<byte[]> chunks) {
    CqlFrameDecoder decoder = new CqlFrameDecoder(false, MAX_BODY);
    decoder.compression(true);
    return DecoderFuzzHarness.run(decoder, chunks, MAX_BUFFERED, CqlCodecException.class::isInstance,
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

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().greaterOrEqual(0).list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<Integer> versions() {
    return Arbitraries.of(4, 5);
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
  }

  /** Bodies that compress (a repeated word) or not (random), up to a little under the limit. */
  private static Arbitrary<byte[]> body() {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<byte[]> text = Arbitraries.integers().between(0, MAX_BODY - 100).map(n -> {
      byte[] b = new byte[n];
      for (int i = 0; i < n; i++) {
        b[i] = (byte) ('a' + i % 7);
      }
      return b;
    });
    return Arbitraries.oneOf(random, text);
  }

  @Provide
  Arbitrary<Sample> conversations() {
    return Combinators.combine(versions(), body().list().ofMinSize(1).ofMaxSize(5))
        .as(Lz4DecoderFuzzTest::conversation);
  }

  static Sample conversation(int version, List<byte[]> bodies) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ByteArrayOutputStream envelopes = new ByteArrayOutputStream();
    byte[] startup = CqlDecoderFuzzTest.envelope(version, 0, CqlOpcode.STARTUP, new byte[] {0, 0});
    bytes.writeBytes(startup);
    envelopes.writeBytes(startup);
    CqlFrameEncoder encoder = new CqlFrameEncoder();
    EmbeddedChannel enc = new EmbeddedChannel(encoder);
    encoder.compression(true);
    if (version == 5) {
      encoder.switchToSegments();
    }
    for (int i = 0; i < bodies.size(); i++) {
      byte[] body = bodies.get(i);
      envelopes.writeBytes(CqlDecoderFuzzTest.envelope(version, i + 1, CqlOpcode.QUERY, body));
      enc.writeOutbound(new CqlFrame(version, false, 0, i + 1, CqlOpcode.QUERY, Unpooled.wrappedBuffer(body)));
    }
    ByteBuf b;
    while ((b = enc.readOutbound()) != null) {
      bytes.writeBytes(DecoderFuzzHarness.bytes(b));
      b.release();
    }
    enc.finishAndReleaseAll();
    return new Sample(bytes.toByteArray(), envelopes.toByteArray());
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Boolean> flip = Arbitraries.of(true, false);
    return Combinators.combine(conversations(), where, flip).as((s, w, f) -> {
      byte[] copy = s.bytes().clone();
      int at = Math.floorMod(w, copy.length);
      if (f) {
        copy[at] ^= (byte) (1 << (w >>> 28 & 7));
        return copy;
      }
      return Arrays.copyOf(copy, at);
    });
  }
}

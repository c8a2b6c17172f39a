package io.mproxy.protocol.cassandra.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
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
 * Hostile bytes against the client side of {@link CqlFrameDecoder} (as
 * {@code CassandraProtocolAdapter} installs it): random bytes, valid v4 conversations and v5
 * conversations (OPTIONS and STARTUP as plain frames, then CRC-checked segments, self-contained
 * or carrying one envelope in several slices) split at random points, and such streams with a
 * bit flipped, cut short or a body length set to negative, just over the limit or huge. The
 * stand-in session switches the decoder to segments after a v5 STARTUP, as {@code CqlSession}
 * does. See {@link DecoderFuzzHarness} for what every run checks. Properties without explicit
 * tries run jqwik's default (1000; {@code -Djqwik.tries.default=N} for longer runs, see
 * docs/reliability.md).
 */
class CqlDecoderFuzzTest {

  private static final int MAX_BODY = 4096;
  /** A v5 segment may be larger than the body limit: the decoder holds at most one. */
  private static final int MAX_BUFFERED = Math.max(MAX_BODY + 9,
      CqlFrameDecoder.SEGMENT_HEADER_BYTES + CqlFrameDecoder.MAX_SEGMENT_PAYLOAD
          + CqlFrameDecoder.SEGMENT_TRAILER_BYTES);
  private static final int[] REQUEST_OPCODES = {CqlOpcode.QUERY, CqlOpcode.PREPARE,
      CqlOpcode.EXECUTE, CqlOpcode.REGISTER, CqlOpcode.BATCH, CqlOpcode.AUTH_RESPONSE,
      CqlOpcode.OPTIONS};
  private static final int[] BAD_LENGTHS = {-1, Integer.MIN_VALUE, MAX_BODY + 1, Integer.MAX_VALUE,
      1 << 20};

  /** A conversation, what the decoder must emit for it, and where body lengths are. */
  record Sample(byte[] bytes, byte[] envelopes, int[] lengthOffsets) {
  }

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("CqlDecoderFuzzTest");
  }

  @Property
  void randomBytesNeverEscapeOrLeak(@ForAll("noise") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property
  void validConversationsSplitAnywhereDecodeToTheirEnvelopes(@ForAll("conversations") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(sample.bytes(), cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("a valid conversation was refused: " + outcome.errors());
    }
    if (!Arrays.equals(sample.envelopes(), outcome.concatenated())) {
      throw new AssertionError("frames do not add up to the envelopes sent");
    }
  }

  @Property
  void mutatedConversationsNeverEscapeOrLeak(@ForAll("mutated") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property(tries = 500)
  void oversizedFrameIsRefusedFromItsHeader(@ForAll("bodyLength") int length,
      @ForAll("cuts") List<Integer> cuts) {
    byte[] stream = new byte[9 + MAX_BODY + 100];
    ByteBuffer.wrap(stream).put((byte) 4).put((byte) 0).putShort((short) 1)
        .put((byte) CqlOpcode.QUERY).putInt(length);
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.errors().size() != 1 || outcome.open() || outcome.maxBuffered() > 8) {
      throw new AssertionError("an oversized frame was not refused from its header");
    }
  }

  private static DecoderFuzzHarness.Outcome run(List<byte[]> chunks) {
    CqlFrameDecoder decoder = new CqlFrameDecoder(false, MAX_BODY);
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
  Arbitrary<Integer> bodyLength() {
    return Arbitraries.oneOf(Arbitraries.integers().between(MAX_BODY + 1, Integer.MAX_VALUE),
        Arbitraries.integers().lessOrEqual(-1));
  }

  @Provide
  Arbitrary<byte[]> noise() {
    Arbitrary<byte[]> any = Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    Arbitrary<byte[]> afterStartup = any.map(tail -> concat(
        envelope(5, 0, CqlOpcode.STARTUP, new byte[] {0, 0}), tail));
    return Arbitraries.oneOf(any, afterStartup);
  }

  @Provide
  Arbitrary<Sample> conversations() {
    Arbitrary<byte[]> body = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    Arbitrary<List<Integer>> opcodes = Arbitraries.integers().between(0, REQUEST_OPCODES.length - 1)
        .list().ofMinSize(1).ofMaxSize(6);
    Arbitrary<List<byte[]>> bodies = body.list().ofMinSize(6).ofMaxSize(6);
    Arbitrary<Integer> layout = Arbitraries.integers().between(0, 2);
    return Combinators.combine(Arbitraries.of(4, 5), opcodes, bodies, layout)
        .as(CqlDecoderFuzzTest::conversation);
  }

  /** layout: 0 one segment per envelope, 1 all in one segment, 2 each envelope in 2 slices. */
  static Sample conversation(int version, List<Integer> kinds, List<byte[]> bodies, int layout) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ByteArrayOutputStream envelopes = new ByteArrayOutputStream();
    List<Integer> offsets = new ArrayList<>();
    byte[] startup = envelope(version, 0, CqlOpcode.STARTUP, new byte[] {0, 0});
    offsets.add(5);
    bytes.writeBytes(startup);
    envelopes.writeBytes(startup);
    List<byte[]> pending = new ArrayList<>();
    for (int i = 0; i < kinds.size(); i++) {
      byte[] e = envelope(version, i + 1, REQUEST_OPCODES[kinds.get(i)], bodies.get(i));
      envelopes.writeBytes(e);
      if (version == 4) {
        offsets.add(bytes.size() + 5);
        bytes.writeBytes(e);
      } else if (layout == 0) {
        offsets.add(bytes.size() + 6 + 5);
        bytes.writeBytes(segment(e, true));
      } else if (layout == 1) {
        pending.add(e);
      } else {
        int half = Math.max(9, e.length / 2);
        offsets.add(bytes.size() + 6 + 5);
        bytes.writeBytes(segment(Arrays.copyOfRange(e, 0, half), false));
        if (half < e.length) {
          bytes.writeBytes(segment(Arrays.copyOfRange(e, half, e.length), false));
        }
      }
    }
    if (!pending.isEmpty()) {
      ByteArrayOutputStream payload = new ByteArrayOutputStream();
      for (byte[] e : pending) {
        offsets.add(bytes.size() + 6 + payload.size() + 5);
        payload.writeBytes(e);
      }
      bytes.writeBytes(segment(payload.toByteArray(), true));
    }
    return new Sample(bytes.toByteArray(), envelopes.toByteArray(),
        offsets.stream().mapToInt(Integer::intValue).toArray());
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    Arbitrary<Integer> length = Arbitraries.oneOf(
        Arbitraries.of(Arrays.stream(BAD_LENGTHS).boxed().toList()), Arbitraries.integers());
    return Combinators.combine(conversations(), where, kind, length).as((s, w, k, len) -> {
      byte[] copy = s.bytes().clone();
      int at = Math.floorMod(w, copy.length);
      switch (k) {
        case 0 -> copy[at] ^= (byte) (1 << (w >>> 28 & 7));
        case 1 -> copy = Arrays.copyOf(copy, at);
        default -> ByteBuffer.wrap(copy)
            .putInt(s.lengthOffsets()[Math.floorMod(w, s.lengthOffsets().length)], len);
      }
      return copy;
    });
  }

  static byte[] envelope(int version, int stream, int opcode, byte[] body) {
    return ByteBuffer.allocate(9 + body.length).put((byte) version).put((byte) 0)
        .putShort((short) stream).put((byte) opcode).putInt(body.length).put(body).array();
  }

  static byte[] segment(byte[] payload, boolean selfContained) {
    ByteBuf out = Unpooled.buffer(10 + payload.length);
    out.writeMediumLE(payload.length | (selfContained ? 1 << 17 : 0));
    out.writeMediumLE(Crc.crc24(out, 0, 3));
    out.writeBytes(payload);
    out.writeIntLE(Crc.crc32(out, 6, payload.length));
    byte[] bytes = DecoderFuzzHarness.bytes(out);
    out.release();
    return bytes;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

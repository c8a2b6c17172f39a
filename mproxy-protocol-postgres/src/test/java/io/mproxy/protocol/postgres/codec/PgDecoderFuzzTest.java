package io.mproxy.protocol.postgres.codec;

import io.mproxy.testkit.DecoderFuzzHarness;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * Hostile bytes against the client side of {@link PgFrameDecoder} (start-up packets, then typed
 * messages, as {@code PgProtocolAdapter} installs it): random bytes, valid conversations split
 * at random points, and valid conversations with a bit flipped, cut short, or a length field set
 * to zero, negative, just over the limit or huge. The stand-in session switches the decoder to
 * typed messages after a StartupMessage, as {@code PgSession} does, and closes after a
 * CancelRequest. See {@link DecoderFuzzHarness} for what every run checks.
 * Properties without explicit tries run jqwik's default (1000; {@code -Djqwik.tries.default=N} for
 * longer runs, see docs/reliability.md).
 */
class PgDecoderFuzzTest {

  private static final int MAX_MESSAGE = 16 * 1024;
  private static final int[] BAD_LENGTHS = {0, -1, 3, 4, 7, Integer.MIN_VALUE, Integer.MAX_VALUE,
      MAX_MESSAGE, MAX_MESSAGE + 1, PgFrameDecoder.MAX_STARTUP_BYTES + 1, 1 << 24};
  private static final byte[] TYPES = "QPBEDCSHXFdcfp".getBytes(StandardCharsets.US_ASCII);

  /** A conversation and where its length fields are. */
  record Sample(byte[] bytes, int[] lengthOffsets) {
  }

  @BeforeContainer
  static void installLeakCheck() {
    DecoderFuzzHarness.beforeContainer();
  }

  @AfterContainer
  static void report() {
    DecoderFuzzHarness.afterContainer("PgDecoderFuzzTest");
  }

  @Property
  void randomBytesNeverEscapeOrLeak(@ForAll("noise") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property
  void validConversationsSplitAnywhereDecodeToThemselves(@ForAll("conversations") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(sample.bytes(), cuts));
    if (outcome.failed() || !outcome.open()) {
      throw new AssertionError("a valid conversation was refused");
    }
    if (!Arrays.equals(sample.bytes(), outcome.concatenated())) {
      throw new AssertionError("messages do not add up to the bytes sent");
    }
  }

  @Property
  void mutatedConversationsNeverEscapeOrLeak(@ForAll("mutated") byte[] bytes,
      @ForAll("cuts") List<Integer> cuts) {
    run(DecoderFuzzHarness.split(bytes, cuts));
  }

  @Property(tries = 500)
  void oversizedMessageIsRefusedFromItsHeader(@ForAll("conversations") Sample sample,
      @ForAll("cuts") List<Integer> cuts) {
    byte[] header = ByteBuffer.allocate(5).put((byte) 'Q').putInt(MAX_MESSAGE).array();
    byte[] stream = Arrays.copyOf(sample.bytes(), sample.bytes().length + 5 + MAX_MESSAGE + 100);
    System.arraycopy(header, 0, stream, sample.bytes().length, 5);
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.decodeErrorObjects() != 1 || outcome.open()) {
      throw new AssertionError("an oversized message was not refused");
    }
    int longestValid = 0;
    for (byte[] frame : outcome.frames()) {
      longestValid = Math.max(longestValid, frame.length);
    }
    if (outcome.maxBuffered() > Math.max(longestValid, 5) + 5) {
      throw new AssertionError("buffered " + outcome.maxBuffered() + " bytes of an oversized body");
    }
  }

  @Property(tries = 300)
  void oversizedStartupIsRefusedFromItsHeader(@ForAll("cuts") List<Integer> cuts) {
    byte[] stream = new byte[PgFrameDecoder.MAX_STARTUP_BYTES + 200];
    ByteBuffer.wrap(stream).putInt(PgFrameDecoder.MAX_STARTUP_BYTES + 1)
        .putInt(StartupPacket.PROTOCOL_3_0);
    DecoderFuzzHarness.Outcome outcome = run(DecoderFuzzHarness.split(stream, cuts));
    if (outcome.decodeErrorObjects() != 1 || outcome.open() || outcome.maxBuffered() > 3) {
      throw new AssertionError("an oversized start-up packet was not refused from its length");
    }
  }

  private static DecoderFuzzHarness.Outcome run(List<byte[]> chunks) {
    PgFrameDecoder decoder = PgFrameDecoder.forClient(MAX_MESSAGE);
    return DecoderFuzzHarness.run(decoder, chunks, MAX_MESSAGE, e -> false, message -> {
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

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().greaterOrEqual(0).list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<byte[]> noise() {
    Arbitrary<byte[]> any = Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    // Start-up looking prefixes with random tails reach the typed phase now and then.
    Arbitrary<byte[]> afterStartup = any.map(tail -> concat(startup("alice", "db"), tail));
    return Arbitraries.oneOf(any, afterStartup);
  }

  @Provide
  Arbitrary<Sample> conversations() {
    Arbitrary<Boolean> ssl = Arbitraries.of(true, false);
    Arbitrary<String> user = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20);
    Arbitrary<byte[]> body = Arbitraries.bytes().array(byte[].class).ofMaxSize(120);
    Arbitrary<List<Integer>> types = Arbitraries.integers().between(0, TYPES.length - 1)
        .list().ofMaxSize(6);
    Arbitrary<List<byte[]>> bodies = body.list().ofMinSize(6).ofMaxSize(6);
    return Combinators.combine(ssl, user, types, bodies).as((withSsl, name, kinds, payloads) -> {
      List<Integer> offsets = new ArrayList<>();
      byte[] bytes = new byte[0];
      if (withSsl) {
        offsets.add(0);
        bytes = ByteBuffer.allocate(8).putInt(8).putInt(StartupPacket.SSL_REQUEST).array();
      }
      offsets.add(bytes.length);
      bytes = concat(bytes, startup(name, name + "_db"));
      for (int i = 0; i < kinds.size(); i++) {
        byte[] payload = payloads.get(i);
        offsets.add(bytes.length + 1);
        bytes = concat(bytes, ByteBuffer.allocate(5 + payload.length).put(TYPES[kinds.get(i)])
            .putInt(4 + payload.length).put(payload).array());
      }
      return new Sample(bytes, offsets.stream().mapToInt(Integer::intValue).toArray());
    });
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<Integer> where = Arbitraries.integers().greaterOrEqual(0);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
    Arbitrary<Integer> length = Arbitraries.oneOf(Arbitraries.of(Arrays.stream(BAD_LENGTHS).boxed()
        .toList()), Arbitraries.integers());
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

  static byte[] startup(String user, String database) {
    byte[] params = ("user\0" + user + "\0database\0" + database + "\0\0")
        .getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + params.length).putInt(8 + params.length)
        .putInt(StartupPacket.PROTOCOL_3_0).put(params).array();
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

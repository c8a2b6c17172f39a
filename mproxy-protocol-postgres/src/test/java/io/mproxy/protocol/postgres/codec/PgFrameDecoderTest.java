package io.mproxy.protocol.postgres.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PgFrameDecoderTest {

  @Test
  void startupPacketThenTypedMessagesSplitAcrossReads() {
    PgFrameDecoder decoder = PgFrameDecoder.forClient(1024);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    Map<String, String> params = new java.util.LinkedHashMap<>();
    params.put("user", "app");
    params.put("database", "db");
    ByteBuf startup = PgMessages.startup(ch.alloc(), params);
    ch.writeInbound(startup.readRetainedSlice(3));
    assertNull(ch.readInbound());
    ch.writeInbound(startup);
    StartupPacket p = ch.readInbound();
    assertEquals(StartupPacket.PROTOCOL_3_0, p.code());
    assertEquals("user", PgMessages.readCString(p.body()));
    p.release();

    decoder.typed();
    ByteBuf q = PgMessages.query(ch.alloc(), "SELECT 1");
    int total = q.readableBytes();
    ch.writeInbound(q.readRetainedSlice(4));
    assertNull(ch.readInbound());
    ch.writeInbound(q);
    ByteBuf frame = ch.readInbound();
    assertEquals(total, frame.readableBytes());
    assertEquals('Q', frame.getByte(0));
    assertEquals("SELECT 1", frame.toString(5, total - 6, StandardCharsets.UTF_8));
    frame.release();
    assertTrue(!ch.finish());
  }

  @Test
  void sslRequestIsAStartupPacket() {
    EmbeddedChannel ch = new EmbeddedChannel(PgFrameDecoder.forClient(1024));
    ch.writeInbound(PgMessages.sslRequest(ch.alloc()));
    StartupPacket p = ch.readInbound();
    assertEquals(StartupPacket.SSL_REQUEST, p.code());
    p.release();
    ch.finish();
  }

  @Test
  void oversizedMessageIsRefusedFromItsHeaderAndTheRestDiscarded() {
    PgFrameDecoder decoder = PgFrameDecoder.forClient(100);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    decoder.typed();
    // Only the header of a 1 MB message: refused before the body is buffered.
    ch.writeInbound(Unpooled.buffer().writeByte('Q').writeInt(1 << 20));
    PgDecodeError e = ch.readInbound();
    assertTrue(e.message().contains("over the limit of 100"), e.message());
    ch.writeInbound(PgMessages.query(ch.alloc(), "SELECT 1"));
    assertNull(ch.readInbound(), "everything after an error is discarded");
    ch.finish();
  }

  @Test
  void lengthBelowFourIsAnError() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ch.writeInbound(Unpooled.buffer().writeByte('Z').writeInt(2).writeByte('I'));
    assertInstanceOf(PgDecodeError.class, ch.readInbound());
    ch.finish();
  }

  @Test
  void badStartupLengthAndUnknownProtocolAreErrors() {
    EmbeddedChannel ch = new EmbeddedChannel(PgFrameDecoder.forClient(1024));
    ch.writeInbound(Unpooled.buffer().writeInt(100_000).writeInt(StartupPacket.PROTOCOL_3_0));
    PgDecodeError e = ch.readInbound();
    assertTrue(e.message().startsWith("invalid length of startup packet"), e.message());
    ch.finish();

    EmbeddedChannel ch2 = new EmbeddedChannel(PgFrameDecoder.forClient(1024));
    ch2.writeInbound(Unpooled.buffer().writeInt(8).writeInt(2 << 16));
    PgDecodeError e2 = ch2.readInbound();
    assertEquals("unsupported frontend protocol 2.0: server supports 3.0", e2.message());
    ch2.finish();
  }

  @Test
  void sslAnswerIsOneByte() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    decoder.expectSslAnswer();
    ch.writeInbound(Unpooled.buffer().writeByte('N').writeByte('Z').writeInt(5).writeByte('I'));
    PgFrameDecoder.SslAnswer a = ch.readInbound();
    assertEquals('N', a.value());
    ByteBuf rfq = ch.readInbound();
    assertEquals('Z', rfq.getByte(0));
    rfq.release();
    ch.finish();
  }

  @Test
  void errorResponseCarriesSeverityCodeAndMessage() {
    ByteBuf e = PgMessages.error(Unpooled.buffer().alloc(), "ERROR", "53400", "mproxy: rejected");
    String s = e.toString(StandardCharsets.UTF_8);
    assertTrue(s.contains("SERROR\0") && s.contains("C53400\0") && s.contains("Mmproxy: rejected\0"), s);
    assertEquals(e.readableBytes() - 1, e.getInt(1));
    e.release();
  }

  /** A backend message: type, length, body. */
  private static ByteBuf msg(char type, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return Unpooled.buffer().writeByte(type).writeInt(4 + b.length).writeBytes(b);
  }

  private static String types(ByteBuf frame) {
    StringBuilder t = new StringBuilder();
    for (int at = frame.readerIndex(); at < frame.writerIndex(); at += 1 + frame.getInt(at + 1)) {
      t.append((char) frame.getByte(at));
    }
    return t.toString();
  }

  /** Records, as each message is delivered, whether the decoder says it ends with its ReadyForQuery. */
  private static final class ReadyMarks extends ChannelInboundHandlerAdapter {
    final PgFrameDecoder decoder;
    final List<Boolean> marks = new ArrayList<>();

    ReadyMarks(PgFrameDecoder decoder) {
      this.decoder = decoder;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      marks.add(decoder.endsWithReady(msg));
      ctx.fireChannelRead(msg);
    }
  }

  @Test
  void relayedRunsShareOneSliceAndTrackedAnswersStayAlone() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    decoder.relayRuns(true);
    ReadyMarks marks = new ReadyMarks(decoder);
    EmbeddedChannel ch = new EmbeddedChannel(decoder, marks);
    ByteBuf in = Unpooled.buffer();
    for (ByteBuf m : new ByteBuf[] {msg('2', ""), msg('T', "rowdesc"), msg('D', "row1"), msg('D', "row2"),
        msg('C', "SELECT 2\0"), msg('Z', "I"), msg('T', "x"), msg('E', "boom"), msg('D', "row3")}) {
      in.writeBytes(m);
      m.release();
    }
    ByteBuf partial = msg('D', "row4");
    in.writeBytes(partial, 0, 7);
    ch.writeInbound(in);
    // the ReadyForQuery that ends a run joins its slice, and only that slice says so
    String[] expected = {"2TDDCZ", "T", "E", "D"};
    for (String e : expected) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    assertEquals(List.of(true, false, false, false), marks.marks);
    // the partial DataRow completes with the next read, and ends a run on its own
    ch.writeInbound(partial.skipBytes(7));
    ByteBuf f = ch.readInbound();
    assertEquals("D", types(f));
    assertEquals("row4", f.toString(5, 4, StandardCharsets.UTF_8));
    f.release();
    assertEquals(List.of(true, false, false, false, false), marks.marks);
    assertTrue(!ch.finish());
  }

  @Test
  void aReadyForQueryAfterATrackedAnswerOrAloneIsItsOwnSlice() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    decoder.relayRuns(true);
    ReadyMarks marks = new ReadyMarks(decoder);
    EmbeddedChannel ch = new EmbeddedChannel(decoder, marks);
    ByteBuf in = Unpooled.buffer();
    for (ByteBuf m : new ByteBuf[] {msg('E', "boom"), msg('Z', "I"), msg('1', ""), msg('Z', "T"),
        msg('D', "a"), msg('Z', "E"), msg('Z', "I")}) {
      in.writeBytes(m);
      m.release();
    }
    ch.writeInbound(in);
    for (String e : new String[] {"E", "Z", "1", "Z", "DZ", "Z"}) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    assertEquals(List.of(false, false, false, false, true, false), marks.marks);
    // a run whose ReadyForQuery comes in the next read is delivered without it
    ByteBuf run = msg('D', "b");
    ch.writeInbound(run);
    ch.writeInbound(msg('Z', "I"));
    ByteBuf f = ch.readInbound();
    assertEquals("D", types(f));
    f.release();
    f = ch.readInbound();
    assertEquals("Z", types(f));
    f.release();
    assertEquals(List.of(false, false, false, false, true, false, false, false), marks.marks);
    assertTrue(!ch.finish());
  }

  /**
   * The extended protocol's answer (ParseComplete, BindComplete, RowDescription, rows,
   * CommandComplete, ReadyForQuery) is one slice when its holder lets ParseComplete join runs,
   * and two (ParseComplete alone, then the rest) when it does not; the switch takes effect from
   * the next read. Without relayed runs the switch changes nothing.
   */
  @Test
  void parseCompleteJoinsTheRunOnlyWhenAllowed() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    decoder.relayRuns(true);
    ReadyMarks marks = new ReadyMarks(decoder);
    EmbeddedChannel ch = new EmbeddedChannel(decoder, marks);
    ch.writeInbound(extendedAnswer());
    for (String e : new String[] {"1", "2TDCZ"}) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    decoder.relayParseComplete(true);
    ch.writeInbound(extendedAnswer());
    ByteBuf one = ch.readInbound();
    assertEquals("12TDCZ", types(one));
    one.release();
    assertNull(ch.readInbound());
    assertEquals(List.of(false, true, true), marks.marks);
    // a ParseComplete that starts a run without its ReadyForQuery leads it; an error still stands alone
    ByteBuf in = Unpooled.buffer();
    for (ByteBuf m : new ByteBuf[] {msg('1', ""), msg('2', ""), msg('E', "boom"), msg('1', ""), msg('Z', "I")}) {
      in.writeBytes(m);
      m.release();
    }
    ch.writeInbound(in);
    for (String e : new String[] {"12", "E", "1Z"}) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    decoder.relayRuns(false);
    ch.writeInbound(extendedAnswer());
    for (String e : new String[] {"1", "2", "T", "D", "C", "Z"}) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    assertTrue(!ch.finish());
  }

  private static ByteBuf extendedAnswer() {
    ByteBuf in = Unpooled.buffer();
    for (ByteBuf m : new ByteBuf[] {msg('1', ""), msg('2', ""), msg('T', "rowdesc"), msg('D', "row"),
        msg('C', "SELECT 1\0"), msg('Z', "I")}) {
      in.writeBytes(m);
      m.release();
    }
    return in;
  }

  @Test
  void withoutRelayRunsEveryMessageIsItsOwnSlice() {
    EmbeddedChannel ch = new EmbeddedChannel(PgFrameDecoder.forBackend(1024));
    ByteBuf in = Unpooled.buffer();
    for (ByteBuf m : new ByteBuf[] {msg('T', "x"), msg('D', "a"), msg('D', "b"), msg('Z', "I")}) {
      in.writeBytes(m);
      m.release();
    }
    ch.writeInbound(in);
    for (String e : new String[] {"T", "D", "D", "Z"}) {
      ByteBuf f = ch.readInbound();
      assertEquals(e, types(f));
      f.release();
    }
    assertNull(ch.readInbound());
    assertTrue(!ch.finish());
  }

  @Test
  void aMalformedMessageAfterARunEmitsTheRunThenTheError() {
    PgFrameDecoder decoder = PgFrameDecoder.forBackend(1024);
    decoder.relayRuns(true);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ByteBuf in = Unpooled.buffer();
    ByteBuf d = msg('D', "a");
    in.writeBytes(d);
    d.release();
    in.writeByte('D').writeInt(2);
    ch.writeInbound(in);
    ByteBuf run = ch.readInbound();
    assertEquals("D", types(run));
    run.release();
    assertInstanceOf(PgDecodeError.class, ch.readInbound());
    assertNull(ch.readInbound());
    ch.finish();
  }
}

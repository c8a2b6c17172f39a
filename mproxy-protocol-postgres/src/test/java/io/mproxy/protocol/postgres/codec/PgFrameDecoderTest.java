package io.mproxy.protocol.postgres.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
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
}

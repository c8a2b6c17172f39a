package io.mproxy.protocol.mysql.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MysqlFrameDecoderTest {

  private static ByteBuf packet(int seq, byte[] payload) {
    ByteBuf b = Unpooled.buffer();
    b.writeMediumLE(payload.length).writeByte(seq).writeBytes(payload);
    return b;
  }

  private static byte[] bytes(ByteBuf b) {
    return ByteBufUtil.getBytes(b);
  }

  @Test
  void decodesPacketsFedOneByteAtATime() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(1024));
    ByteBuf wire = Unpooled.buffer();
    wire.writeBytes(packet(0, "\u0003SELECT 1".getBytes(StandardCharsets.UTF_8)));
    wire.writeBytes(packet(0, new byte[] {0x0E}));
    byte[] all = bytes(wire);
    wire.release();
    for (byte b : all) {
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    MysqlPacket first = ch.readInbound();
    assertEquals(0, first.sequenceId());
    assertEquals(Mysql.COM_QUERY, first.header());
    assertEquals("\u0003SELECT 1", first.payload().toString(StandardCharsets.UTF_8));
    assertArrayEquals(java.util.Arrays.copyOfRange(all, 0, 13), bytes(first.raw()), "raw keeps the header");
    first.release();
    MysqlPacket second = ch.readInbound();
    assertEquals(Mysql.COM_PING, second.header());
    second.release();
    assertNull(ch.readInbound());
    assertFalse(ch.finish());
  }

  @Test
  void joinsSixteenMegabyteContinuationPacketsAndReframesThemIdentically() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(64L << 20));
    byte[] big = new byte[MysqlPacket.MAX_CHUNK + 10];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    MysqlPacket framed = MysqlPacket.frame(Unpooled.buffer().alloc(), 0, Unpooled.wrappedBuffer(big));
    byte[] wire = bytes(framed.raw());
    assertEquals(big.length + 8, wire.length, "two headers");
    assertEquals(1, framed.lastSequenceId());
    framed.release();
    int half = wire.length / 2;
    ch.writeInbound(Unpooled.wrappedBuffer(wire, 0, half));
    assertNull(ch.readInbound(), "a partial packet waits");
    ch.writeInbound(Unpooled.wrappedBuffer(wire, half, wire.length - half));
    MysqlPacket p = ch.readInbound();
    assertEquals(big.length, p.length());
    assertEquals(0, p.sequenceId());
    assertEquals(1, p.lastSequenceId());
    assertArrayEquals(big, bytes(p.payload()));
    assertArrayEquals(wire, bytes(p.raw()));
    p.release();
    assertFalse(ch.finish());
  }

  @Test
  void refusesAPacketPastTheLimitFromItsHeader() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(100));
    ByteBuf header = Unpooled.buffer().writeMediumLE(101).writeByte(0);
    MysqlCodecException e = assertThrows(MysqlCodecException.class, () -> ch.writeInbound(header));
    assertEquals(MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE, e.errorCode());
    ch.writeInbound(packet(0, new byte[] {1}));
    assertNull(ch.readInbound(), "bytes after the error are discarded");
    assertFalse(ch.finish());
  }

  @Test
  void refusesContinuationsOutOfOrderAndAcrossTheLimit() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(64L << 20));
    ByteBuf first = Unpooled.buffer().writeMediumLE(MysqlPacket.MAX_CHUNK).writeByte(0)
        .writeZero(MysqlPacket.MAX_CHUNK);
    ch.writeInbound(first);
    MysqlCodecException e = assertThrows(MysqlCodecException.class, () -> ch.writeInbound(packet(5, new byte[3])));
    assertEquals(MysqlFrameDecoder.ER_NET_PACKETS_OUT_OF_ORDER, e.errorCode());
    assertFalse(ch.finish());

    EmbeddedChannel small = new EmbeddedChannel(new MysqlFrameDecoder(MysqlPacket.MAX_CHUNK + 5));
    small.writeInbound(Unpooled.buffer().writeMediumLE(MysqlPacket.MAX_CHUNK).writeByte(0)
        .writeZero(MysqlPacket.MAX_CHUNK));
    MysqlCodecException tooBig = assertThrows(MysqlCodecException.class,
        () -> small.writeInbound(Unpooled.buffer().writeMediumLE(6).writeByte(1)));
    assertEquals(MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE, tooBig.errorCode());
    assertFalse(small.finish());
  }

  @Test
  void emptyPacketIsAPacket() {
    EmbeddedChannel ch = new EmbeddedChannel(new MysqlFrameDecoder(10));
    ch.writeInbound(packet(3, new byte[0]));
    MysqlPacket p = ch.readInbound();
    assertEquals(0, p.length());
    assertEquals(-1, p.header());
    assertEquals(3, p.sequenceId());
    p.release();
    assertFalse(ch.finish());
  }
}

package io.mproxy.protocol.cassandra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class TopologyRewriteTest {

  private static final byte[] BACKEND_IP = {10, 1, 2, 3};
  private static final byte[] TOKENS = {0, 0, 0, 1, 0, 0, 0, 1, '0'};

  /** A Rows result of system.local: rpc_address inet, rpc_port int, tokens set<text>, data_center text. */
  private static CqlFrame localRows(int flagsExtra) {
    ByteBuf b = Unpooled.buffer();
    b.writeInt(2).writeInt(0x0001 | flagsExtra).writeInt(4);
    CqlWire.writeString(b, "system");
    CqlWire.writeString(b, "local");
    CqlWire.writeString(b, "rpc_address");
    b.writeShort(0x0010);
    CqlWire.writeString(b, "rpc_port");
    b.writeShort(0x0009);
    CqlWire.writeString(b, "tokens");
    b.writeShort(0x0022).writeShort(0x000D);
    CqlWire.writeString(b, "data_center");
    b.writeShort(0x000D);
    b.writeInt(1);
    b.writeInt(4).writeBytes(BACKEND_IP);
    b.writeInt(4).writeInt(9042);
    b.writeInt(TOKENS.length).writeBytes(TOKENS);
    b.writeInt(3).writeBytes("dc1".getBytes());
    return new CqlFrame(4, true, 0, 3, CqlOpcode.RESULT, b);
  }

  @Test
  void localRowGetsTheProxyAddressAndKeepsTheRest() {
    CqlFrame in = localRows(0);
    CqlFrame out = TopologyRewrite.withProxyAddress(ByteBufAllocator.DEFAULT, in,
        new InetSocketAddress("127.0.0.7", 9043));
    ByteBuf b = out.body();
    b.skipBytes(4 + 4 + 4);
    CqlWire.readString(b);
    CqlWire.readString(b);
    for (int i = 0; i < 4; i++) {
      CqlWire.readString(b);
      TopologyRewrite.skipType(b, 0);
    }
    assertEquals(1, b.readInt());
    assertArrayEquals(new byte[] {127, 0, 0, 7}, CqlWire.readBytes(b));
    assertEquals(9043, java.nio.ByteBuffer.wrap(CqlWire.readBytes(b)).getInt());
    assertArrayEquals(TOKENS, CqlWire.readBytes(b));
    assertArrayEquals("dc1".getBytes(), CqlWire.readBytes(b));
    assertEquals(0, b.readableBytes());
    in.release();
    out.release();
  }

  @Test
  void peersKeepMetadataAndLoseRows() {
    CqlFrame in = localRows(0);
    CqlFrame out = TopologyRewrite.withoutRows(ByteBufAllocator.DEFAULT, in);
    ByteBuf b = out.body();
    int len = b.readableBytes();
    assertEquals(0, b.getInt(len - 4), "row count");
    assertEquals(in.body().readableBytes() - (8 + 8 + 4 + TOKENS.length + 7), len, "metadata copied, rows dropped");
    in.release();
    out.release();
  }

  @Test
  void unreadableAnswersAreLeftAlone() {
    CqlFrame noMetadata = localRows(0x0004);
    assertNull(TopologyRewrite.withoutRows(ByteBufAllocator.DEFAULT, noMetadata));
    noMetadata.release();
    CqlFrame truncated = new CqlFrame(4, true, 0, 1, CqlOpcode.RESULT, Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 2, 0}));
    assertNull(TopologyRewrite.withProxyAddress(ByteBufAllocator.DEFAULT, truncated, new InetSocketAddress("127.0.0.1", 1)));
    truncated.release();
  }
}

package io.mproxy.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WriteCoalescerTest {

  private EmbeddedChannel channel;
  private WriteCoalescer out;

  @BeforeEach
  void setUp() {
    channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    ChannelHandlerContext ctx = channel.pipeline().firstContext();
    out = new WriteCoalescer(ctx);
  }

  @AfterEach
  void tearDown() {
    out.discard();
    channel.finishAndReleaseAll();
  }

  @Test
  void aLonePartIsWrittenAsItIs() {
    ByteBuf part = text("+OK\r\n");
    out.write(part);
    out.flush();
    List<ByteBuf> written = outbound();
    assertEquals(1, written.size());
    assertSame(part, written.get(0));
    release(written);
  }

  @Test
  void smallPartsOfOneTickLeaveAsOneBufferInOrder() {
    ByteBuf a = text("$1\r\na\r\n");
    ByteBuf b = text("$1\r\nb\r\n");
    ByteBuf c = text("$1\r\nc\r\n");
    out.write(a);
    out.write(b);
    out.write(c);
    out.flush();
    List<ByteBuf> written = outbound();
    assertEquals(1, written.size());
    assertEquals("$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", string(written));
    assertEquals(0, a.refCnt());
    assertEquals(0, b.refCnt());
    assertEquals(0, c.refCnt());
    release(written);
  }

  @Test
  void aLargePartIsNeverCopiedAndKeepsItsPlace() {
    ByteBuf big = text("x".repeat(WriteCoalescer.SMALL + 1));
    out.write(text("a"));
    out.write(text("b"));
    out.write(big);
    out.write(text("c"));
    out.flush();
    List<ByteBuf> written = outbound();
    assertEquals(3, written.size());
    assertSame(big, written.get(1));
    assertEquals("ab" + "x".repeat(WriteCoalescer.SMALL + 1) + "c", string(written));
    release(written);
  }

  @Test
  void aFullGatheringBufferStartsANewOne() {
    StringBuilder expected = new StringBuilder();
    int parts = WriteCoalescer.CHUNK / WriteCoalescer.SMALL * 3;
    for (int i = 0; i < parts; i++) {
      String s = Integer.toString(i % 10).repeat(WriteCoalescer.SMALL);
      expected.append(s);
      out.write(text(s));
    }
    out.flush();
    List<ByteBuf> written = outbound();
    assertTrue(written.size() >= 3 && written.size() <= 4, "buffers: " + written.size());
    assertEquals(expected.toString(), string(written));
    release(written);
  }

  @Test
  void copiedBytesJoinTheWritesInOrderAndTheSourceIsLeftAlone() {
    ByteBuf src = text("junk+OK\r\n:1\r\nmore");
    ByteBuf big = text("y".repeat(WriteCoalescer.SMALL + 1));
    out.write(text("a"));
    out.copy(src, 4, 5);
    out.copy(big, 0, big.readableBytes());
    out.copy(src, 9, 4);
    out.flush();
    List<ByteBuf> written = outbound();
    assertEquals(3, written.size());
    assertEquals("a+OK\r\n" + "y".repeat(WriteCoalescer.SMALL + 1) + ":1\r\n", string(written));
    assertEquals(1, src.refCnt());
    assertEquals(0, src.readerIndex());
    assertEquals(2, big.refCnt(), "a large copy is written as a retained slice");
    release(written);
    assertEquals(1, big.refCnt());
    src.release();
    big.release();
  }

  @Test
  void discardReleasesWhatWasNotWritten() {
    ByteBuf a = text("a");
    ByteBuf b = text("b");
    out.write(a);
    out.write(b);
    out.discard();
    assertEquals(0, a.refCnt());
    assertEquals(0, b.refCnt());
    out.flush();
    assertTrue(outbound().isEmpty());
  }

  private List<ByteBuf> outbound() {
    List<ByteBuf> all = new ArrayList<>();
    ByteBuf b;
    while ((b = channel.readOutbound()) != null) {
      all.add(b);
    }
    return all;
  }

  private static String string(List<ByteBuf> bufs) {
    StringBuilder sb = new StringBuilder();
    bufs.forEach(b -> sb.append(b.toString(StandardCharsets.US_ASCII)));
    return sb.toString();
  }

  private static void release(List<ByteBuf> bufs) {
    bufs.forEach(ByteBuf::release);
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }
}

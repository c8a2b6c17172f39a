package io.mproxy.protocol.mysql;

import io.mproxy.core.testing.LoopbackListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A read delivered to the session while it is still handling a command lent from the previous
 * read, as a handler in front of it (TLS) may fire one from within a write. The session frames
 * the new bytes only after it gave the lent packet back: framed at once, they would re-lend the
 * session's one view while the first command still holds it, and the first read (held by the
 * view when it was exactly that command) would never be released. Every command must still be
 * answered in the order read. Commands the proxy answers itself (an execute of an unknown
 * statement: an ERR naming the id), so no backend is needed; the session sits behind an
 * in-memory channel.
 */
class ReentrantReadTest {

  /** Fires {@code injected} as a read the first time something is written after it was armed. */
  private static final class ReadDuringWrite extends ChannelDuplexHandler {
    ByteBuf injected;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      ByteBuf in = injected;
      if (in != null) {
        injected = null;
        ctx.fireChannelRead(in);
      }
      ctx.write(msg, promise);
    }
  }

  private static byte[] executeOf(long id) {
    return WireClient.execute(id);
  }

  /** The packets written to the client so far, as payload texts. */
  private static List<String> answers(EmbeddedChannel ch) {
    List<String> out = new ArrayList<>();
    ByteBuf b;
    while ((b = ch.readOutbound()) != null) {
      while (b.readableBytes() >= 4) {
        int len = b.getUnsignedMediumLE(b.readerIndex());
        out.add(b.toString(b.readerIndex() + 4, len, StandardCharsets.ISO_8859_1));
        b.skipBytes(4 + len);
      }
      b.release();
    }
    return out;
  }

  @Test
  void aReadFiredWhileACommandIsLentIsFramedAfterIt() throws Exception {
    try (LoopbackListener proxy = MiniMysqlProxy.withoutBackend()) {
      ReadDuringWrite front = new ReadDuringWrite();
      EmbeddedChannel ch = new EmbeddedChannel(front);
      new MysqlProtocolAdapter().initClientChannel(ch, proxy);
      ByteBuf greeting = ch.readOutbound();
      assertTrue(greeting != null, "the greeting");
      byte[] g = new byte[greeting.readableBytes() - 4];
      greeting.getBytes(greeting.readerIndex() + 4, g);
      greeting.release();
      ch.writeInbound(Unpooled.wrappedBuffer(WireClient.handshakeResponse(g, MiniMysqlProxy.USER,
          MiniMysqlProxy.PASSWORD)));
      List<String> login = answers(ch);
      assertEquals(1, login.size());
      assertEquals(0, login.get(0).charAt(0), "login OK");

      for (boolean twoInOneRead : new boolean[] {false, true}) {
        // the first command's answer, on its way out, brings in the next read
        ByteBuf next = Unpooled.wrappedBuffer(executeOf(3));
        front.injected = next;
        byte[] first = twoInOneRead
            ? ByteBufUtil.getBytes(Unpooled.wrappedBuffer(executeOf(1), executeOf(2)))
            : executeOf(1);
        ByteBuf read = Unpooled.wrappedBuffer(first);
        ch.writeInbound(read);
        List<String> got = answers(ch);
        assertEquals(0, read.refCnt(), "the first read was released once its commands were answered");
        assertEquals(0, next.refCnt(), "the read fired during the answer was released too");
        List<String> ids = new ArrayList<>();
        for (String a : got) {
          assertEquals(0xFF, a.charAt(0), "an ERR: " + a);
          ids.add(a.replaceAll("(?s).*handler \\((\\d+)\\).*", "$1"));
        }
        assertEquals(twoInOneRead ? List.of("1", "2", "3") : List.of("1", "3"), ids,
            "answers in the order the commands were read");
      }
      assertNull(ch.readOutbound());
      ch.finishAndReleaseAll();
    }
  }
}

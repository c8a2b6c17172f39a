package io.mproxy.protocol.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend side of the forward path on an {@link EmbeddedChannel}: the boundary-reporting
 * decoder and the reply matcher, with sinks that record what they are handed. Replies reach their
 * commands' sinks as positions in the read buffer whatever the read sizes, error replies are
 * typed as errors, and a connection that fails mid-reply fails every command still waiting.
 */
class RedisBackendHandlerTest {

  private static final int MAX = 1 << 20;

  /** Replies of several types, one per command; the third is an error. */
  private static final String[] REPLIES = {
      "+OK\r\n",
      "$5\r\nhello\r\n",
      "-ERR value is not an integer or out of range\r\n",
      ":42\r\n",
      "*3\r\n$1\r\na\r\n$-1\r\n*1\r\n:1\r\n",
      "$-1\r\n",
      "$0\r\n\r\n",
      "!21\r\nSYNTAX invalid syntax\r\n",
      "%1\r\n+k\r\n#t\r\n",
      "|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
  };

  @Test
  void repliesSplitAtEveryByteBoundaryReachTheirCommandsIntact() {
    byte[] all = String.join("", REPLIES).getBytes(StandardCharsets.US_ASCII);
    for (int split = 1; split < all.length; split++) {
      Backend b = new Backend(MAX);
      List<RecordingSink> sinks = b.send(REPLIES.length);
      b.read(all, 0, split);
      b.read(all, split, all.length - split);
      assertReplies(sinks, "split at " + split);
      b.close();
    }
  }

  @Test
  void repliesArrivingOneByteAtATimeReachTheirCommandsIntact() {
    byte[] all = String.join("", REPLIES).getBytes(StandardCharsets.US_ASCII);
    Backend b = new Backend(MAX);
    List<RecordingSink> sinks = b.send(REPLIES.length);
    for (int i = 0; i < all.length; i++) {
      b.read(all, i, 1);
    }
    assertReplies(sinks, "byte by byte");
    b.close();
  }

  private static void assertReplies(List<RecordingSink> sinks, String how) {
    for (int i = 0; i < REPLIES.length; i++) {
      RecordingSink s = sinks.get(i);
      assertEquals(List.of(REPLIES[i]), s.replies, how + ", reply " + i);
      assertTrue(s.last, how + ", reply " + i + " ends its command");
      assertNull(s.failure);
    }
    assertFalse(sinks.get(1).error, how);
    assertTrue(sinks.get(2).error, how + ": a simple error is an error");
    assertTrue(sinks.get(7).error, how + ": a bulk error is an error");
    assertEquals('$', sinks.get(9).types.get(0), how + ": the type of the value after the attribute");
  }

  @Test
  void aReplyLargerThanTheReadBufferIsHandedOverWholeInItsTurn() {
    String big = "$" + 300_000 + "\r\n" + "z".repeat(300_000) + "\r\n";
    byte[] all = ("+OK\r\n" + big + ":7\r\n").getBytes(StandardCharsets.US_ASCII);
    Backend b = new Backend(MAX);
    List<RecordingSink> sinks = b.send(3);
    for (int at = 0; at < all.length; at += 1024) {
      b.read(all, at, Math.min(1024, all.length - at));
    }
    assertEquals(List.of("+OK\r\n"), sinks.get(0).replies);
    assertEquals(List.of(big), sinks.get(1).replies);
    assertEquals(List.of(":7\r\n"), sinks.get(2).replies);
    b.close();
  }

  @Test
  void aConnectionClosingMidReplyFailsEveryCommandStillWaiting() {
    Backend b = new Backend(MAX);
    List<RecordingSink> sinks = b.send(3);
    byte[] bytes = "+OK\r\n$10\r\nhel".getBytes(StandardCharsets.US_ASCII);
    b.read(bytes, 0, bytes.length);
    b.channel.close();
    assertEquals(List.of("+OK\r\n"), sinks.get(0).replies);
    assertNull(sinks.get(0).failure);
    for (int i = 1; i < 3; i++) {
      assertTrue(sinks.get(i).replies.isEmpty(), "no partial reply for command " + i);
      assertNotNull(sinks.get(i).failure, "command " + i + " failed");
    }
    b.close();
  }

  @Test
  void aReplyOverTheSizeLimitFailsTheConnectionAndEveryCommand() {
    Backend b = new Backend(1000);
    List<RecordingSink> sinks = b.send(2);
    byte[] bytes = ("+OK\r\n$5000\r\n" + "x".repeat(100)).getBytes(StandardCharsets.US_ASCII);
    b.read(bytes, 0, bytes.length);
    assertEquals(List.of("+OK\r\n"), sinks.get(0).replies);
    assertNotNull(sinks.get(1).failure, "the oversized reply's command failed");
    assertTrue(sinks.get(1).replies.isEmpty());
    assertFalse(b.channel.isActive(), "the connection is closed");
    b.close();
  }

  @Test
  void pushesGoToThePushSinkAndRepliesAroundThemToTheirCommands() {
    Backend b = new Backend(MAX);
    List<RespFrame> pushes = new ArrayList<>();
    b.handler.pushSink(pushes::add);
    List<RecordingSink> sinks = b.send(2);
    String push = ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nmsg\r\n";
    byte[] bytes = ("+OK\r\n" + push + ":5\r\n").getBytes(StandardCharsets.US_ASCII);
    b.read(bytes, 0, bytes.length);
    assertEquals(List.of("+OK\r\n"), sinks.get(0).replies);
    assertEquals(List.of(":5\r\n"), sinks.get(1).replies);
    assertEquals(1, pushes.size());
    assertEquals(push, pushes.get(0).content().toString(StandardCharsets.US_ASCII));
    pushes.forEach(RespFrame::release);
    b.close();
  }

  @Test
  void theCommandsOfOneTickLeaveInOneWriteAndOneFlush() {
    Backend b = new Backend(MAX);
    int[] writes = {0};
    int[] flushes = {0};
    b.channel.pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
      @Override
      public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg,
          io.netty.channel.ChannelPromise promise) {
        writes[0]++;
        ctx.write(msg, promise);
      }

      @Override
      public void flush(io.netty.channel.ChannelHandlerContext ctx) {
        flushes[0]++;
        ctx.flush();
      }
    });
    // sixteen commands borrowed from one client read buffer, and one the session owns, as a read
    // of several clients' pipelines hands them over
    StringBuilder expected = new StringBuilder();
    ByteBuf clientRead = Unpooled.buffer();
    for (int i = 0; i < 16; i++) {
      String cmd = "*2\r\n$3\r\nGET\r\n$" + String.valueOf(i).length() + "\r\n" + i + "\r\n";
      expected.append(cmd);
      clientRead.writeCharSequence(cmd, StandardCharsets.US_ASCII);
    }
    List<RecordingSink> sinks = new ArrayList<>();
    int at = 0;
    for (int i = 0; i < 16; i++) {
      int length = ("*2\r\n$3\r\nGET\r\n$" + String.valueOf(i).length() + "\r\n" + i + "\r\n").length();
      RecordingSink s = new RecordingSink();
      sinks.add(s);
      b.handler.sendCopy(clientRead, at, length, s);
      at += length;
    }
    String ping = "*1\r\n$4\r\nPING\r\n";
    expected.append(ping);
    RecordingSink last = new RecordingSink();
    sinks.add(last);
    b.handler.send(Unpooled.copiedBuffer(ping, StandardCharsets.US_ASCII), last);
    clientRead.release();
    assertEquals(0, flushes[0], "nothing is flushed before the tick ends");
    b.channel.runPendingTasks();
    assertEquals(1, flushes[0], "one flush for the tick");
    assertEquals(1, writes[0], "one buffer for the tick");
    ByteBuf written = b.channel.readOutbound();
    try {
      assertEquals(expected.toString(), written.toString(StandardCharsets.US_ASCII));
    } finally {
      written.release();
    }
    StringBuilder replies = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      replies.append("$1\r\nv\r\n");
    }
    replies.append("+PONG\r\n");
    byte[] all = replies.toString().getBytes(StandardCharsets.US_ASCII);
    b.read(all, 0, all.length);
    for (RecordingSink s : sinks) {
      assertTrue(s.last, "every command got its reply");
    }
    assertEquals(List.of("+PONG\r\n"), last.replies);
    b.close();
  }

  /** A backend connection's inbound pipeline as the connector builds it. */
  private static final class Backend {
    final RedisBackendHandler handler = new RedisBackendHandler();
    final EmbeddedChannel channel;

    Backend(int maxReplyBytes) {
      channel = new EmbeddedChannel(RespFrameDecoder.replyBoundaries(maxReplyBytes, handler), handler);
    }

    List<RecordingSink> send(int commands) {
      List<RecordingSink> sinks = new ArrayList<>();
      for (int i = 0; i < commands; i++) {
        RecordingSink s = new RecordingSink();
        sinks.add(s);
        handler.send(Unpooled.copiedBuffer("*1\r\n$4\r\nPING\r\n", StandardCharsets.US_ASCII), s);
      }
      channel.runPendingTasks();
      ByteBuf written;
      while ((written = channel.readOutbound()) != null) {
        written.release();
      }
      return sinks;
    }

    void read(byte[] bytes, int from, int length) {
      ByteBuf buf = channel.alloc().buffer(length);
      buf.writeBytes(bytes, from, length);
      channel.writeInbound(buf);
    }

    void close() {
      channel.finishAndReleaseAll();
    }
  }

  /** Copies what it is handed (the bytes are valid during the call only). */
  private static final class RecordingSink implements ReplySink {
    final List<String> replies = new ArrayList<>();
    final List<Character> types = new ArrayList<>();
    boolean error;
    boolean last;
    Throwable failure;

    @Override
    public int expectedReplies() {
      return 1;
    }

    @Override
    public boolean pubsubDuring() {
      return false;
    }

    @Override
    public boolean pubsubAfter() {
      return false;
    }

    @Override
    public boolean monitorAfter() {
      return false;
    }

    @Override
    public void reply(ByteBuf in, int index, int length, byte type, boolean lastReply) {
      replies.add(in.toString(index, length, StandardCharsets.ISO_8859_1));
      types.add((char) type);
      error |= ReplySink.isError(type);
      last = lastReply;
    }

    @Override
    public void failed(Throwable cause) {
      failure = cause;
    }
  }
}

package io.mproxy.protocol.redis.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The borrowing request decoder hands the receiver the same commands as the frame-emitting one,
 * whatever the read sizes; its view is only usable during the callback, and {@code keep()} gives
 * a frame that outlives it.
 */
class RespFrameDecoderBorrowingTest {

  private static final int MAX = 1 << 20;
  private static final String STREAM =
      "*2\r\n$3\r\nGET\r\n$5\r\nuser1\r\n"
      + "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$11\r\nhello world\r\n"
      + "*0\r\n"
      + "PING inline\r\n"
      + "*1\r\n$4\r\nPING\r\n"
      + "*4\r\n$4\r\nMSET\r\n$1\r\na\r\n$0\r\n\r\n$2\r\n-1\r\n";

  @Test
  void keptCommandsEqualTheFrameDecodersAtEverySplit() {
    List<String> expected = describe(frameDecoder(STREAM.getBytes(StandardCharsets.US_ASCII)));
    assertEquals(5, expected.size());
    byte[] bytes = STREAM.getBytes(StandardCharsets.US_ASCII);
    for (int split = 0; split <= bytes.length; split++) {
      List<RespFrame> kept = new ArrayList<>();
      EmbeddedChannel ch = new EmbeddedChannel(RespFrameDecoder.borrowingCommands(MAX, c -> kept.add(c.keep())));
      ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
      ch.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
      assertFalse(ch.finish(), "a borrowing decoder emits no messages");
      assertEquals(expected, describe(kept), "split at " + split);
    }
  }

  @Test
  void theViewIsBorrowedOnlyDuringTheCallback() {
    List<RespFrame> views = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    ByteBuf in = Unpooled.copiedBuffer("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", StandardCharsets.US_ASCII);
    EmbeddedChannel ch = new EmbeddedChannel(RespFrameDecoder.borrowingCommands(MAX, c -> {
      assertTrue(c.isBorrowed());
      c.retain();
      c.release();
      c.release();
      seen.add(c.commandName() + " " + c.argString(1) + " " + c.size());
      views.add(c);
    }));
    in.retain();
    ch.writeInbound(in);
    assertEquals(List.of("GET k 20"), seen);
    assertEquals(1, in.refCnt(), "retain/release of the view left the read buffer alone");
    in.release();
    assertThrows(IllegalStateException.class, () -> views.get(0).content());
    assertFalse(ch.finish());
  }

  @Test
  void errorsAreTheFrameDecodersAfterTheCommandsBeforeThem() {
    List<String> seen = new ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel(RespFrameDecoder.borrowingCommands(100, c -> seen.add(c.commandName())));
    ByteBuf in = Unpooled.copiedBuffer("*1\r\n$4\r\nPING\r\n*1\r\n$500\r\n", StandardCharsets.US_ASCII);
    assertThrows(DecoderException.class, () -> ch.writeInbound(in));
    assertEquals(List.of("PING"), seen);
    ch.finishAndReleaseAll();
  }

  private static List<RespFrame> frameDecoder(byte[] bytes) {
    EmbeddedChannel ch = new EmbeddedChannel(new RespFrameDecoder(RespFrameDecoder.Mode.REQUEST, MAX));
    ch.writeInbound(Unpooled.wrappedBuffer(bytes));
    List<RespFrame> frames = new ArrayList<>();
    RespFrame f;
    while ((f = ch.readInbound()) != null) {
      frames.add(f);
    }
    ch.finish();
    return frames;
  }

  /** Name, arguments and wire bytes of each frame; releases them. */
  private static List<String> describe(List<RespFrame> frames) {
    List<String> out = new ArrayList<>();
    for (RespFrame f : frames) {
      StringBuilder sb = new StringBuilder(f.commandName()).append(" argc=").append(f.argCount());
      for (int i = 0; i < f.argCount(); i++) {
        sb.append(" [").append(f.argString(i)).append('@').append(f.argOffset(i)).append(']');
      }
      sb.append(" bytes=").append(f.content().toString(0, f.size(), StandardCharsets.US_ASCII));
      out.add(sb.toString());
      f.release();
    }
    return out;
  }
}

package io.mproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The handshake timer in virtual time: it fires once, with the refusal, unless removed first. */
class HandshakeTimeoutTest {

  private final ManualScheduler scheduler = new ManualScheduler(new ManualClock());
  private final AtomicInteger timeouts = new AtomicInteger();

  private HandshakeTimeout handler(boolean withRefusal) {
    return new HandshakeTimeout(scheduler, 1_000,
        ctx -> withRefusal ? Unpooled.copiedBuffer("-ERR late\r\n", StandardCharsets.US_ASCII) : null,
        timeouts::incrementAndGet);
  }

  @Test
  void aClientThatNeverLogsInGetsTheRefusalAndIsClosedAtTheTimeout() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addFirst(HandshakeTimeout.NAME, handler(true));
    ch.writeInbound(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII));
    ByteBuf passed = ch.readInbound();
    assertEquals("x", passed.toString(StandardCharsets.US_ASCII), "bytes pass through untouched");
    passed.release();
    scheduler.advanceMillis(999);
    ch.runPendingTasks();
    assertTrue(ch.isOpen());
    scheduler.advanceMillis(1);
    ch.runPendingTasks();
    ByteBuf out = ch.readOutbound();
    assertEquals("-ERR late\r\n", out.toString(StandardCharsets.US_ASCII));
    out.release();
    assertFalse(ch.isOpen());
    assertEquals(1, timeouts.get());
    assertFalse(ch.finish());
  }

  @Test
  void removingTheHandlerAtLoginCancelsTheTimer() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addFirst(HandshakeTimeout.NAME, handler(true));
    ch.pipeline().remove(HandshakeTimeout.NAME);
    scheduler.advanceMillis(5_000);
    ch.runPendingTasks();
    assertTrue(ch.isOpen());
    assertNull(ch.readOutbound());
    assertEquals(0, timeouts.get());
    assertFalse(ch.finish());
  }

  @Test
  void withoutAnErrorFormatTheClientIsJustClosed() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addFirst(HandshakeTimeout.NAME, handler(false));
    scheduler.advanceMillis(1_000);
    ch.runPendingTasks();
    assertFalse(ch.isOpen());
    assertNull(ch.readOutbound());
    assertEquals(1, timeouts.get());
  }
}

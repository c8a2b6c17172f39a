package io.mproxy.protocol.mongo.codec;

import static io.mproxy.protocol.mongo.codec.Messages.buf;
import static io.mproxy.protocol.mongo.codec.Messages.opMsg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

class MongoFrameDecoderTest {

  private static final byte[] PING = opMsg(7, 0, "{ping: 1, $db: 'admin'}");

  @Test
  void wholeMessageIsOneFrameWithItsHeader() {
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(1024));
    assertTrue(ch.writeInbound(buf(PING)));
    MongoFrame f = ch.readInbound();
    try {
      assertEquals(7, f.requestId());
      assertEquals(0, f.responseTo());
      assertEquals(OpCode.OP_MSG, f.opCode());
      assertArrayEquals(PING, ByteBufUtil.getBytes(f.content()), "the frame is the message, byte for byte");
    } finally {
      f.release();
    }
    assertFalse(ch.finish());
  }

  @Test
  void fragmentsWaitForTheWholeMessage() {
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(1024));
    byte[] two = Messages.concat(PING, opMsg(8, 0, "{ping: 1, $db: 'x'}"));
    for (int i = 0; i < two.length; i++) {
      ch.writeInbound(buf(new byte[] {two[i]}));
      if (i < PING.length - 1) {
        assertNull(ch.readInbound(), "nothing before byte " + PING.length);
      }
    }
    MongoFrame a = ch.readInbound();
    MongoFrame b = ch.readInbound();
    assertEquals(7, a.requestId());
    assertEquals(8, b.requestId());
    a.release();
    b.release();
    assertFalse(ch.finish());
  }

  @Test
  void oversizedLengthIsRefusedBeforeTheBodyArrives() {
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(64));
    byte[] header = Messages.concat(Messages.le(48_000_001), Messages.le(99));
    DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(buf(header)));
    MongoCodecException cause = (MongoCodecException) e;
    assertTrue(cause.getMessage().contains("exceeds maxMessageSizeBytes 64"), cause.getMessage());
    assertEquals(99, cause.requestId());
    ch.writeInbound(buf(PING));
    assertNull(ch.readInbound(), "after an error everything is discarded");
    assertFalse(ch.finish());
  }

  @Test
  void lengthShorterThanAHeaderIsAnError() {
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(1024));
    assertThrows(MongoCodecException.class, () -> ch.writeInbound(buf(Messages.le(15))));
    assertFalse(ch.finish());
  }

  @Test
  void maximumMustHoldAHeader() {
    assertThrows(IllegalArgumentException.class, () -> new MongoFrameDecoder(15));
  }
}

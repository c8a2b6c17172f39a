package io.mproxy.protocol.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFrameEncoder;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stream-id remapping on the wire: what the backend sees and which sink gets which answer. */
class CqlBackendHandlerTest {

  private static final class Sink implements ResponseSink {
    final List<String> got = new ArrayList<>();
    Throwable failure;

    @Override
    public void response(CqlFrame frame) {
      got.add(frame.stream() + ":" + frame.body().toString(StandardCharsets.UTF_8));
      frame.release();
    }

    @Override
    public void failed(Throwable cause) {
      failure = cause;
    }
  }

  @Test
  void clientStreamsAreRemappedAndAnswersMatchedOutOfOrder() {
    CqlBackendHandler handler = new CqlBackendHandler();
    EmbeddedChannel ch = new EmbeddedChannel(new CqlFrameDecoder(true, 1 << 20), new CqlFrameEncoder(), handler);
    Sink a = new Sink();
    Sink b = new Sink();
    handler.send(request(4000, "a"), a);
    handler.send(request(4000, "b"), b);   // the same client id from another client
    ch.runPendingTasks();
    List<Integer> streamsOnWire = new ArrayList<>();
    ByteBuf out;
    ByteBuf wire = Unpooled.buffer();
    while ((out = ch.readOutbound()) != null) {
      wire.writeBytes(out);
      out.release();
    }
    while (wire.isReadable()) {
      streamsOnWire.add((int) wire.getShort(wire.readerIndex() + 2));
      wire.skipBytes(9 + wire.getInt(wire.readerIndex() + 5));
    }
    wire.release();
    assertEquals(List.of(0, 1), streamsOnWire, "free backend ids, not the client's");
    assertEquals(2, handler.inFlight());

    // answers in the opposite order, plus an event that must go nowhere
    ch.writeInbound(response(-1, "event"), response(1, "for-b"), response(0, "for-a"));
    assertEquals(List.of("0:for-a"), a.got);
    assertEquals(List.of("1:for-b"), b.got);
    assertEquals(0, handler.inFlight());
    assertNull(ch.readInbound());

    // ids are reused after their answer
    Sink c = new Sink();
    handler.send(request(1, "c"), c);
    ch.runPendingTasks();
    ByteBuf again = ch.readOutbound();
    assertEquals(0, again.getShort(2));
    again.release();
    while ((out = ch.readOutbound()) != null) {
      out.release();
    }
    ch.close();
    assertInstanceOf(ClosedChannelException.class, c.failure, "in-flight requests fail when the connection goes");
    assertFalse(ch.finish());
  }

  @Test
  void streamIdsAreBounded() {
    StreamIds ids = new StreamIds(3);
    Sink s = new Sink();
    assertEquals(0, ids.acquire(s));
    assertEquals(1, ids.acquire(s));
    assertEquals(2, ids.acquire(s));
    assertEquals(-1, ids.acquire(s));
    ids.release(1);
    assertEquals(1, ids.acquire(s));
    assertNull(ids.release(7));
    assertEquals(3, ids.clear().size());
    assertEquals(0, ids.inUse());
  }

  private static CqlFrame request(int stream, String body) {
    return new CqlFrame(4, false, 0, stream, CqlOpcode.QUERY, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
  }

  private static ByteBuf response(int stream, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ByteBuf f = Unpooled.buffer();
    f.writeByte(0x84).writeByte(0).writeShort(stream).writeByte(stream < 0 ? CqlOpcode.EVENT : CqlOpcode.RESULT)
        .writeInt(b.length).writeBytes(b);
    return f;
  }
}

package io.mproxy.protocol.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoFrameDecoder;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.junit.jupiter.api.Test;

/** The backend connection's reply matcher: replies pair with requests in order, by responseTo. */
class MongoBackendHandlerTest {

  /** Records what one request got. */
  private static final class Sink implements ReplySink {
    final List<Integer> responseTo = new ArrayList<>();
    final List<Integer> bodies = new ArrayList<>();
    Throwable failure;

    @Override
    public void reply(MongoFrame frame, boolean last) {
      responseTo.add(frame.responseTo());
      bodies.add(ReplyScan.document(frame).getInt32("n").getValue());
      frame.release();
    }

    @Override
    public void failed(Throwable cause) {
      failure = cause;
    }
  }

  private static ByteBuf request(int requestId) {
    return MongoReplies.opMsg(ByteBufAllocator.DEFAULT, requestId, 0, 0,
        new BsonDocument("ping", new BsonInt32(1)).append("n", new BsonInt32(requestId)));
  }

  private static ByteBuf reply(int responseTo, int n) {
    return MongoReplies.reply(ByteBufAllocator.DEFAULT, responseTo, new BsonDocument("ok", new BsonInt32(1))
        .append("n", new BsonInt32(n)));
  }

  @Test
  void manyRequestsInFlightEachGetTheirOwnReplyInOrder() {
    MongoBackendHandler handler = new MongoBackendHandler();
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(1 << 20), handler);
    List<Sink> sinks = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    // batches larger than the id ring each time, the replies of one taken before the next is
    // sent: the ring wraps, and grows while wrapped
    int next = 1000;
    for (int size : new int[] {5, 11, 23}) {
      List<Integer> batch = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        Sink s = new Sink();
        handler.send(request(next), true, s);
        sinks.add(s);
        ids.add(next);
        batch.add(next);
        next++;
      }
      for (int i = 0; i < size; i++) {
        ByteBuf written = ch.readOutbound();
        written.release();
      }
      for (int id : batch) {
        ch.writeInbound(reply(id, id * 2));
      }
    }
    for (int k = 0; k < sinks.size(); k++) {
      int id = ids.get(k);
      assertEquals(List.of(id), sinks.get(k).responseTo, "request " + id);
      assertEquals(List.of(id * 2), sinks.get(k).bodies, "request " + id);
    }
    assertTrue(ch.isActive());
    ch.finishAndReleaseAll();
  }

  @Test
  void aReplyToAnotherRequestClosesTheConnectionAndFailsWhatIsInFlight() {
    MongoBackendHandler handler = new MongoBackendHandler();
    EmbeddedChannel ch = new EmbeddedChannel(new MongoFrameDecoder(1 << 20), handler);
    Sink first = new Sink();
    Sink second = new Sink();
    handler.send(request(7), true, first);
    handler.send(request(8), true, second);
    ch.writeInbound(reply(8, 1));
    assertFalse(ch.isActive(), "closed on a reply that answers no request at the head");
    assertTrue(first.responseTo.isEmpty());
    assertTrue(first.failure != null && second.failure != null, "both requests in flight failed");
    ch.finishAndReleaseAll();
  }
}

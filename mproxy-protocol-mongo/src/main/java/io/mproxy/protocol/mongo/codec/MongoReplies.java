package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;

/**
 * Messages the proxy writes itself: OP_MSG replies (command results and errors), OP_REPLY for
 * the legacy handshake, and OP_MSG commands to backends. Not on the forwarding path.
 */
public final class MongoReplies {

  private static final BsonDocumentCodec CODEC = new BsonDocumentCodec();
  private static final AtomicInteger REQUEST_IDS = new AtomicInteger();
  /** OP_REPLY responseFlags bit: the query failed ({@code $err} in the document). */
  public static final int QUERY_FAILURE = 2;

  private MongoReplies() {
  }

  /** A fresh request id for messages the proxy originates. */
  public static int nextRequestId() {
    return REQUEST_IDS.incrementAndGet() & Integer.MAX_VALUE;
  }

  public static byte[] encode(BsonDocument doc) {
    BasicOutputBuffer out = new BasicOutputBuffer(256);
    try (BsonBinaryWriter w = new BsonBinaryWriter(out)) {
      CODEC.encode(w, doc, EncoderContext.builder().build());
    }
    return out.toByteArray();
  }

  /** An OP_MSG with one body section and the given flags. */
  public static ByteBuf opMsg(ByteBufAllocator alloc, int requestId, int responseTo, int flags,
      BsonDocument body) {
    byte[] bytes = encode(body);
    int length = MongoFrame.HEADER_BYTES + 4 + 1 + bytes.length;
    ByteBuf buf = alloc.buffer(length);
    buf.writeIntLE(length).writeIntLE(requestId).writeIntLE(responseTo).writeIntLE(OpCode.OP_MSG);
    buf.writeIntLE(flags).writeByte(0).writeBytes(bytes);
    return buf;
  }

  /** A reply to the client's message {@code responseTo}. */
  public static ByteBuf reply(ByteBufAllocator alloc, int responseTo, BsonDocument body) {
    return opMsg(alloc, nextRequestId(), responseTo, 0, body);
  }

  /** An OP_REPLY with one document, for the legacy OP_QUERY handshake. */
  public static ByteBuf opReply(ByteBufAllocator alloc, int responseTo, int responseFlags, BsonDocument doc) {
    byte[] bytes = encode(doc);
    int length = MongoFrame.HEADER_BYTES + 4 + 8 + 4 + 4 + bytes.length;
    ByteBuf buf = alloc.buffer(length);
    buf.writeIntLE(length).writeIntLE(nextRequestId()).writeIntLE(responseTo).writeIntLE(OpCode.OP_REPLY);
    buf.writeIntLE(responseFlags).writeLongLE(0).writeIntLE(0).writeIntLE(1).writeBytes(bytes);
    return buf;
  }

  /** {@code { ok: 0, errmsg, code, codeName }}: a command error with no error labels. */
  public static BsonDocument error(int code, String codeName, String errmsg) {
    return new BsonDocument("ok", new BsonInt32(0))
        .append("errmsg", new BsonString(errmsg))
        .append("code", new BsonInt32(code))
        .append("codeName", new BsonString(codeName));
  }
}

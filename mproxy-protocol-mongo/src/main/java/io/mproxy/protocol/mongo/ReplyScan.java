package io.mproxy.protocol.mongo;

import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.OpCode;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import org.bson.RawBsonDocument;

/**
 * What the proxy reads of a backend's reply: whether it succeeded and which cursor it left
 * open ({@code cursor.id}), scanned in place. The batch of documents is skipped by length.
 */
final class ReplyScan {

  /** The reply could not be read (not an OP_MSG, bad BSON): treated as a failed command. */
  static final ReplyScan UNREADABLE = new ReplyScan(false, 0, false, null);

  private final boolean ok;
  private final long cursorId;
  private final boolean hasCursor;
  private final String namespace;

  private ReplyScan(boolean ok, long cursorId, boolean hasCursor, String namespace) {
    this.ok = ok;
    this.cursorId = cursorId;
    this.hasCursor = hasCursor;
    this.namespace = namespace;
  }

  static ReplyScan of(MongoFrame reply) {
    if (reply.opCode() != OpCode.OP_MSG) {
      return UNREADABLE;
    }
    try {
      OpMsg msg = OpMsg.parse(reply);
      BsonScanner s = msg.body(reply);
      boolean ok = false;
      long cursorId = 0;
      boolean hasCursor = false;
      int nsValue = -1;
      int nsLength = 0;
      while (s.next()) {
        if (s.nameEquals("ok")) {
          ok = s.truthy();
        } else if (s.nameEquals("cursor") && s.type() == BsonScanner.DOCUMENT) {
          BsonScanner c = s.nested();
          while (c.next()) {
            if (c.nameEquals("id") && c.isNumber()) {
              cursorId = c.longValue();
              hasCursor = true;
            } else if (c.nameEquals("ns") && c.isString()) {
              nsValue = c.valueStart();
              nsLength = c.valueLength();
            }
          }
        }
      }
      // the namespace only matters for a cursor left open; most replies close theirs at once
      String ns = cursorId != 0 && nsValue >= 0
          ? reply.content().toString(nsValue + 4, nsLength - 5, StandardCharsets.UTF_8) : null;
      return new ReplyScan(ok, cursorId, hasCursor, ns);
    } catch (MongoCodecException e) {
      return UNREADABLE;
    }
  }

  boolean ok() {
    return ok;
  }

  /** {@code cursor.id} of the reply: 0 when the cursor is exhausted or there is none. */
  long cursorId() {
    return cursorId;
  }

  boolean hasCursor() {
    return hasCursor;
  }

  /** {@code cursor.ns} ({@code db.collection}) of a reply that leaves a cursor open, else null. */
  String namespace() {
    return namespace;
  }

  /** The body of an OP_MSG (or the document of an OP_REPLY) decoded, for replies the proxy inspects itself. */
  static RawBsonDocument document(MongoFrame reply) {
    ByteBuf buf = reply.content();
    int start;
    int length;
    if (reply.opCode() == OpCode.OP_MSG) {
      OpMsg msg = OpMsg.parse(reply);
      start = msg.bodyStart();
      length = msg.bodyLength();
    } else if (reply.opCode() == OpCode.OP_REPLY) {
      start = buf.readerIndex() + MongoFrame.HEADER_BYTES + 20;
      length = BsonScanner.documentLength(buf, start, buf.readerIndex() + buf.readableBytes());
    } else {
      throw new MongoCodecException("unexpected reply " + OpCode.name(reply.opCode()));
    }
    byte[] bytes = new byte[length];
    buf.getBytes(start, bytes);
    return new RawBsonDocument(bytes);
  }
}

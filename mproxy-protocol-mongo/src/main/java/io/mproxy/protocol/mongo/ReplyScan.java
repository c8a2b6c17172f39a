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
  /** The common answers, shared: they carry no cursor left open, so nothing of their own. */
  private static final ReplyScan OK = new ReplyScan(true, 0, false, null);
  private static final ReplyScan OK_CURSOR_DONE = new ReplyScan(true, 0, true, null);
  private static final ReplyScan FAILED = new ReplyScan(false, 0, false, null);
  private static final ReplyScan FAILED_CURSOR_DONE = new ReplyScan(false, 0, true, null);

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

  /** The scan of {@code reply}, read with {@code scanner} (a connection reuses one; it is re-aimed at the body). */
  static ReplyScan of(MongoFrame reply, BsonScanner scanner) {
    if (reply.opCode() != OpCode.OP_MSG) {
      return UNREADABLE;
    }
    try {
      OpMsg msg = OpMsg.parse(reply);
      BsonScanner s = scanner.reset(reply.content(), msg.bodyStart(), msg.bodyStart() + msg.bodyLength());
      boolean ok = false;
      long cursorId = 0;
      boolean hasCursor = false;
      int nsValue = -1;
      int nsLength = 0;
      while (s.next()) {
        if (s.nameEquals("ok")) {
          ok = s.truthy();
        } else if (s.nameEquals("cursor") && s.type() == BsonScanner.DOCUMENT) {
          long back = s.enter();
          while (s.next()) {
            if (s.nameEquals("id") && s.isNumber()) {
              cursorId = s.longValue();
              hasCursor = true;
            } else if (s.nameEquals("ns") && s.isString()) {
              nsValue = s.valueStart();
              nsLength = s.valueLength();
            }
          }
          s.exit(back);
        }
      }
      if (cursorId == 0) {
        return ok ? (hasCursor ? OK_CURSOR_DONE : OK) : (hasCursor ? FAILED_CURSOR_DONE : FAILED);
      }
      // the namespace only matters for a cursor left open; most replies close theirs at once
      String ns = nsValue >= 0
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

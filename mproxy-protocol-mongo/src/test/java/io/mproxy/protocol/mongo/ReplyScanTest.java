package io.mproxy.protocol.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.netty.buffer.ByteBufAllocator;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class ReplyScanTest {

  /** One scanner for every reply of the class, re-aimed each time, as a session keeps one. */
  private static final BsonScanner SCANNER = new BsonScanner();

  private static ReplyScan scan(String json) {
    MongoFrame f = new MongoFrame(MongoReplies.opMsg(ByteBufAllocator.DEFAULT, 1, 2, 0, BsonDocument.parse(json)));
    try {
      return ReplyScan.of(f, SCANNER);
    } finally {
      f.release();
    }
  }

  @Test
  void cursorReplies() {
    ReplyScan open = scan("{cursor: {firstBatch: [{_id: 1}, {_id: 2}], id: {$numberLong: '987654321'},"
        + " ns: 'app.c'}, ok: 1.0}");
    assertTrue(open.ok());
    assertTrue(open.hasCursor());
    assertEquals(987654321L, open.cursorId());
    assertEquals("app.c", open.namespace());
    ReplyScan done = scan("{cursor: {nextBatch: [], id: {$numberLong: '0'}, ns: 'app.c'}, ok: 1}");
    assertTrue(done.hasCursor());
    assertEquals(0, done.cursorId());
    assertEquals(null, done.namespace(), "a closed cursor's namespace is not decoded");
  }

  @Test
  void errorsAndOtherReplies() {
    assertFalse(scan("{ok: 0, errmsg: 'x', code: 2}").ok());
    ReplyScan write = scan("{n: 1, ok: 1}");
    assertTrue(write.ok());
    assertFalse(write.hasCursor());
    MongoFrame legacy = new MongoFrame(MongoReplies.opReply(ByteBufAllocator.DEFAULT, 1, 0, BsonDocument.parse("{ok: 1}")));
    try {
      assertFalse(ReplyScan.of(legacy, SCANNER).ok(), "only OP_MSG replies are read");
      assertEquals(1, ReplyScan.document(legacy).getInt32("ok").getValue());
    } finally {
      legacy.release();
    }
  }

  @Test
  void fieldsAfterTheCursorDocumentAreStillRead() {
    ReplyScan failed = scan("{cursor: {id: {$numberLong: '0'}, ns: 'a.b', firstBatch: []}, ok: 0, errmsg: 'x'}");
    assertFalse(failed.ok(), "ok comes after the cursor document the scan descended into");
    assertTrue(failed.hasCursor());
    ReplyScan open = scan("{cursor: {firstBatch: [{a: {b: 1}}], id: {$numberLong: '5'}, ns: 'a.b'}, ok: 1}");
    assertTrue(open.ok());
    assertEquals(5, open.cursorId());
    assertEquals("a.b", open.namespace());
    assertTrue(scan("{ok: 1}") == scan("{ok: 1.0, n: 0}"), "a plain success is one shared answer");
  }
}

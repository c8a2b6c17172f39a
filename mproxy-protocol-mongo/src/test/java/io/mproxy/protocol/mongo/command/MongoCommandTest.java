package io.mproxy.protocol.mongo.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.RequestKind;
import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class MongoCommandTest {

  static MongoFrame msg(String json) {
    return new MongoFrame(MongoReplies.opMsg(ByteBufAllocator.DEFAULT, 1, 0, 0, BsonDocument.parse(json)));
  }

  /** One scanner for every command of the class, re-aimed each time, as a session keeps one. */
  private static final BsonScanner SCANNER = new BsonScanner();

  static MongoCommand scan(String json) {
    MongoFrame f = msg(json);
    try {
      OpMsg m = OpMsg.parse(f);
      MongoCommand shared = scanWithSharedScanner(f, m);
      assertEquals(describe(scanInPlace(f, m)), describe(shared),
          "a reused scanner reading its copy reads what a fresh one reads in place");
      return shared;
    } finally {
      f.release();
    }
  }

  /** Everything a scan reads, fingerprint included. */
  static String describe(MongoCommand c) {
    return c + " comment=" + c.comment() + " readPreference=" + c.readPreference() + " maxTimeMS="
        + c.hasMaxTimeMs() + "/" + c.maxTimeMsValue() + " writeStage=" + c.writeStage() + " startTransaction="
        + c.startTransaction() + " inTransaction=" + c.inTransaction() + " shape=" + MongoFingerprint.of(c);
  }

  private static MongoCommand scanInPlace(MongoFrame f, OpMsg m) {
    return MongoCommand.scan(f, m, BsonScanner.of(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength()), 100);
  }

  @Test
  void routingFieldsOfATransactionStatement() {
    MongoCommand c = scan("{find: 'users', filter: {a: 1}, lsid: {id: {$binary: {base64: 'AAECAwQFBgcICQoLDA0ODw==',"
        + " subType: '04'}}}, txnNumber: {$numberLong: '3'}, startTransaction: true, autocommit: false,"
        + " $readPreference: {mode: 'primary'}, comment: 'hello', $db: 'app'}");
    assertEquals("find", c.name());
    assertEquals("users", c.collection());
    assertEquals("app", c.database());
    assertEquals("000102030405060708090a0b0c0d0e0f", c.lsid());
    assertEquals(3, c.txnNumber());
    assertTrue(c.startTransaction());
    assertTrue(c.inTransaction());
    assertEquals("hello", c.comment());
    assertFalse(c.secondaryOk());
    assertEquals(RequestKind.READ, MongoCommands.kind(c));
  }

  @Test
  void theSessionIdIsOnlyBuiltForCommandsOfATransaction() {
    String lsid = "lsid: {id: {$binary: {base64: 'AAECAwQFBgcICQoLDA0ODw==', subType: '04'}}}";
    assertEquals(null, scan("{find: 'users', filter: {a: 1}, " + lsid + ", $db: 'app'}").lsid(),
        "an implicit session outside a transaction is not decoded");
    MongoCommand continued = scan("{find: 'users', " + lsid + ", txnNumber: {$numberLong: '3'}, autocommit: false, $db: 'app'}");
    assertEquals("000102030405060708090a0b0c0d0e0f", continued.lsid());
    assertTrue(continued.inTransaction());
    assertFalse(scan("{find: 'users', txnNumber: {$numberLong: '3'}, autocommit: false, $db: 'app'}").inTransaction(),
        "no lsid, no transaction");
  }

  @Test
  void aCommentDocumentWithMproxyHintsReadsAsTheirText() {
    assertEquals("mproxy: priority=low timeout_ms=500",
        scan("{find: 'u', comment: {mproxy: {priority: 'low', timeout_ms: 500, nested: {x: 1}}}, $db: 'app'}").comment());
    assertEquals(null, scan("{find: 'u', comment: {trace: 'abc'}, $db: 'app'}").comment());
    assertEquals(null, scan("{find: 'u', comment: {mproxy: 'not a document'}, $db: 'app'}").comment());
  }

  @Test
  void maxTimeMsIsAddedOnlyToReadsWithoutTheClientsOwn() {
    assertTrue(scan("{find: 'u', filter: {}, $db: 'app'}").acceptsMaxTimeMs());
    assertTrue(scan("{aggregate: 'u', pipeline: [{$match: {}}], cursor: {}, $db: 'app'}").acceptsMaxTimeMs());
    assertTrue(scan("{count: 'u', $db: 'app'}").acceptsMaxTimeMs());
    assertTrue(scan("{distinct: 'u', key: 'a', $db: 'app'}").acceptsMaxTimeMs());
    MongoCommand own = scan("{find: 'u', maxTimeMS: 100, $db: 'app'}");
    assertTrue(own.hasMaxTimeMs());
    assertFalse(own.acceptsMaxTimeMs(), "the client's own maxTimeMS stays");
    assertFalse(scan("{aggregate: 'u', pipeline: [{$out: 'v'}], cursor: {}, $db: 'app'}").acceptsMaxTimeMs());
    assertFalse(scan("{insert: 'u', $db: 'app'}").acceptsMaxTimeMs());
    assertFalse(scan("{getMore: {$numberLong: '5'}, collection: 'u', $db: 'app'}").acceptsMaxTimeMs(),
        "on a getMore maxTimeMS means something else (an awaitData wait)");
    assertFalse(scan("{find: 'u', lsid: {id: {$binary: {base64: 'AAECAwQFBgcICQoLDA0ODw==', subType: '04'}}},"
        + " txnNumber: {$numberLong: '3'}, autocommit: false, $db: 'app'}").acceptsMaxTimeMs());
  }

  @Test
  void cursorsOfGetMoreAndKillCursors() {
    MongoCommand g = scan("{getMore: {$numberLong: '123456789012'}, collection: 'big', batchSize: 100, $db: 'app'}");
    assertEquals(123456789012L, g.cursorId());
    assertEquals("big", g.collection());
    assertEquals(RequestKind.READ, MongoCommands.kind(g));
    MongoCommand k = scan("{killCursors: 'big', cursors: [{$numberLong: '42'}], $db: 'app'}");
    assertEquals(42, k.cursorId());
    assertEquals(RequestKind.SESSION, MongoCommands.kind(k));
  }

  @Test
  void secondaryReadPreference() {
    assertTrue(scan("{find: 'c', $readPreference: {mode: 'secondaryPreferred'}, $db: 'a'}").secondaryOk());
    assertNull(scan("{find: 'c', $db: 'a'}").readPreference());
  }

  @Test
  void kinds() {
    assertEquals(RequestKind.WRITE, MongoCommands.kind(scan("{insert: 'c', $db: 'a'}")));
    assertEquals(RequestKind.WRITE, MongoCommands.kind(scan("{findAndModify: 'c', $db: 'a'}")));
    assertEquals(RequestKind.READ, MongoCommands.kind(scan("{aggregate: 'c', pipeline: [{$match: {}}], $db: 'a'}")));
    assertEquals(RequestKind.WRITE, MongoCommands.kind(scan("{aggregate: 'c', pipeline: [{$match: {}}, {$out: 'o'}], $db: 'a'}")));
    assertEquals(RequestKind.TRANSACTION_CONTROL, MongoCommands.kind(scan("{commitTransaction: 1, $db: 'admin'}")));
    assertEquals(RequestKind.ADMIN, MongoCommands.kind(scan("{serverStatus: 1, $db: 'admin'}")));
    assertTrue(MongoCommands.isHandshake("isMaster"));
    assertTrue(MongoCommands.isHandshake("hello"));
    assertTrue(MongoCommands.createsCursor("aggregate"));
  }

  @Test
  void emptyBodyIsAnError() {
    MongoFrame f = msg("{}");
    try {
      MongoCodecException e = assertThrows(MongoCodecException.class, () -> scanWithSharedScanner(f, OpMsg.parse(f)));
      assertEquals("OP_MSG body is an empty document", e.getMessage());
    } finally {
      f.release();
    }
  }

  @Test
  void fingerprintsKeepShapeAndDropValues() {
    assertEquals("find users {age:{$gt:?},name:?}",
        fp("{find: 'users', filter: {age: {$gt: 30}, name: 'ada'}, $db: 'app'}"));
    assertEquals(fp("{find: 'users', filter: {age: {$gt: 1}, name: 'x'}, $db: 'app'}"),
        fp("{find: 'users', filter: {age: {$gt: 99}, name: 'zed'}, limit: 5, $db: 'app'}"));
    assertEquals("find users {$or:[{a:?},{b:{$in:?}}]}",
        fp("{find: 'users', filter: {$or: [{a: 1}, {b: {$in: [1, 2, 3]}}]}, $db: 'app'}"));
    assertEquals("aggregate orders [$match{status:?},$group,$sort]",
        fp("{aggregate: 'orders', pipeline: [{$match: {status: 'A'}}, {$group: {_id: '$c'}}, {$sort: {_id: 1}}],"
            + " cursor: {}, $db: 'app'}"));
    assertEquals("update users {_id:?}", fp("{update: 'users', updates: [{q: {_id: 5}, u: {$set: {a: 1}}}], $db: 'a'}"));
    assertEquals("insert users", fp("{insert: 'users', documents: [{_id: 1}], $db: 'a'}"));
    String huge = "{find: 'c', filter: {" + String.join(",", java.util.stream.IntStream.range(0, 500)
        .mapToObj(i -> "f" + i + ": 1").toList()) + "}, $db: 'a'}";
    assertTrue(fp(huge).length() <= MongoFingerprint.MAX_LENGTH);
  }

  @Test
  void fingerprintsOfTheSameShapeAreOneStringAndNamesKeepTheirCharacters() {
    String a = fp("{find: 'users', filter: {age: {$gt: 30}, name: 'ada'}, $db: 'app'}");
    String b = fp("{find: 'users', filter: {age: {$gt: 31}, name: 'bob'}, $db: 'app'}");
    assertTrue(a == b, "a shape seen before is handed out as the same string");
    assertEquals("find users {größe:?,名前:{$in:?}}",
        fp("{find: 'users', filter: {größe: 1, 名前: {$in: [1]}}, $db: 'app'}"));
    assertEquals("find users {$and:[{a:?},{b:?}]}", fp("{find: 'users', filter: {$and: [{a: 1}, {b: 2}]}, $db: 'a'}"));
    assertEquals("find users {tags:?}", fp("{find: 'users', filter: {tags: [1, 2]}, $db: 'a'}"),
        "an array under a field that is not an operator is a value");
    assertEquals("aggregate orders [$project,$match]",
        fp("{aggregate: 'orders', pipeline: [{$project: {a: 1}}, {$match: {s: 1}}], cursor: {}, $db: 'app'}"),
        "only a leading $match keeps its shape");
    String longName = "c".repeat(MongoFingerprint.MAX_LENGTH + 10);
    assertEquals(MongoFingerprint.MAX_LENGTH, fp("{find: '" + longName + "', $db: 'a'}").length());
    assertEquals("insert users", fp("{insert: 'users', documents: [{_id: 1}], $db: 'a'}"),
        "the builder is reset between fingerprints");
  }

  @Test
  void fingerprintOfDeleteInADocumentSequence() {
    MongoFrame body = msg("{delete: 'users', $db: 'a'}");
    try {
      // rebuild as body + kind-1 "deletes" section
      byte[] bodyBytes = new byte[body.size() - 21];
      body.content().getBytes(21, bodyBytes);
      byte[] stmt = MongoReplies.encode(BsonDocument.parse("{q: {email: 'x@y'}, limit: 1}"));
      byte[] ident = "deletes\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      int seqSize = 4 + ident.length + stmt.length;
      int length = 16 + 4 + 1 + bodyBytes.length + 1 + seqSize;
      io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.buffer(length);
      b.writeIntLE(length).writeIntLE(2).writeIntLE(0).writeIntLE(2013).writeIntLE(0)
          .writeByte(0).writeBytes(bodyBytes).writeByte(1).writeIntLE(seqSize).writeBytes(ident).writeBytes(stmt);
      MongoFrame f = new MongoFrame(b);
      try {
        OpMsg m = OpMsg.parse(f);
        assertEquals(List.of("deletes"), m.sequences().stream().map(OpMsg.Sequence::identifier).toList());
        assertEquals("delete users {email:?}", MongoFingerprint.of(scanWithSharedScanner(f, m)));
      } finally {
        f.release();
      }
    } finally {
      body.release();
    }
  }

  /** Validation, the command scan and the fingerprint in one walk with one reused scanner, as {@code MongoSession} does. */
  private static MongoCommand scanWithSharedScanner(MongoFrame f, OpMsg m) {
    BsonScanner body = SCANNER.reset(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength());
    return MongoCommand.scan(f, m, body, 100);
  }

  private static String fp(String json) {
    MongoFrame f = msg(json);
    try {
      OpMsg m = OpMsg.parse(f);
      String shared = MongoFingerprint.of(scanWithSharedScanner(f, m));
      MongoCommand again = MongoCommand.scan(f, m, new BsonScanner().reset(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength()), 100);
      assertEquals(MongoFingerprint.of(again), shared, "a reused scanner reads the same shape as a fresh one");
      assertEquals(MongoFingerprint.of(scanInPlace(f, m)), shared, "a copied body reads the same shape as the buffer in place");
      return shared;
    } finally {
      f.release();
    }
  }

  @Test
  void readersOfTheSameElementDoNotDisturbEachOther() {
    MongoCommand agg = scan("{aggregate: 'o', pipeline: [{$match: {$db: 'x', a: 1}}, {$out: 'v'}], $db: 'app'}");
    assertTrue(agg.writeStage(), "the command scan read the pipeline");
    assertEquals("aggregate o [$match{$db:?,a:?},$out]", MongoFingerprint.of(agg), "and so did the fingerprint");
    assertEquals("app", agg.database(), "$db inside the pipeline is not the command's");
    MongoCommand find = scan("{find: 'u', filter: {comment: 'c', $db: 'evil', lsid: {id: 1}}, $db: 'app'}");
    assertEquals("app", find.database(), "fields inside the filter are not the command's");
    assertNull(find.comment());
    assertEquals("find u {comment:?,$db:?,lsid:{id:?}}", MongoFingerprint.of(find));
    MongoCommand upd = scan("{update: 'u', updates: [{q: {a: 1}, u: {$set: {b: 1}}}], comment: 'after', $db: 'app'}");
    assertEquals("update u {a:?}", MongoFingerprint.of(upd));
    assertEquals("after", upd.comment(), "a field after a statement list is read");
  }

  @Test
  void theOneWalkMeetsTheFirstErrorThatValidatingFirstMeets() {
    String[] bodies = {
        "{find: {x: {y: 'one'}}, filter: {a: 1}, $db: 'app'}",
        "{find: 'u', filter: {a: {b: 'two'}}, comment: {mproxy: {priority: 'three'}}, $db: 'app'}",
        "{aggregate: 'u', pipeline: [{$match: {k: 'four'}}], cursor: {}, $db: 'five'}",
    };
    for (String json : bodies) {
      for (String word : new String[] {"one", "two", "three", "four", "five"}) {
        byte[] good = MongoReplies.encode(BsonDocument.parse(json));
        int at = indexOf(good, word.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (at < 0) {
          continue;
        }
        for (byte[] bad : new byte[][] {with(good, at - 4, (byte) 0x7f), with(good, at - 4 - 2, (byte) 0x33),
            with(good, at + word.length(), (byte) 'x')}) {
          assertSameVerdict(bad, 100);
        }
      }
      assertSameVerdict(MongoReplies.encode(BsonDocument.parse(json)), 100);
    }
    String deep = "{find: 'u', filter: " + "{a: ".repeat(5) + "1" + "}".repeat(5) + ", $db: 'app'}";
    byte[] d = MongoReplies.encode(BsonDocument.parse(deep));
    assertEquals("ok", assertSameVerdict(d, 6), "six levels with six allowed");
    assertTrue(assertSameVerdict(d, 5).contains("too deeply"), "six levels with five allowed");
    assertTrue(assertSameVerdict(d, 1).contains("too deeply"));
  }

  /** The one walk's verdict on {@code body} (the error's message, or "ok"), checked against validating it first. */
  private static String assertSameVerdict(byte[] body, int maxDepth) {
    String expected;
    try {
      BsonScanner.validate(io.netty.buffer.Unpooled.wrappedBuffer(body), 0, body.length, maxDepth);
      expected = "ok";
    } catch (MongoCodecException e) {
      expected = e.getMessage();
    }
    int length = 16 + 4 + 1 + body.length;
    io.netty.buffer.ByteBuf b = io.netty.buffer.Unpooled.buffer(length);
    b.writeIntLE(length).writeIntLE(3).writeIntLE(0).writeIntLE(2013).writeIntLE(0).writeByte(0).writeBytes(body);
    MongoFrame f = new MongoFrame(b);
    try {
      OpMsg m = OpMsg.parse(f);
      String actual;
      try {
        MongoCommand.scan(f, m, SCANNER.reset(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength()), maxDepth);
        actual = "ok";
      } catch (MongoCodecException e) {
        actual = e.getMessage();
      }
      assertEquals(expected, actual);
      return actual;
    } finally {
      f.release();
    }
  }

  private static byte[] with(byte[] bytes, int at, byte value) {
    byte[] copy = bytes.clone();
    copy[at] = value;
    return copy;
  }

  private static int indexOf(byte[] in, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= in.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (in[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void namesDatabasesAndCollectionsAreSharedStrings() {
    MongoCommand a = scan("{find: 'users', filter: {_id: 1}, $db: 'app', $readPreference: {mode: 'secondary'}}");
    MongoCommand b = scan("{find: 'users', filter: {_id: 2}, $db: 'app', $readPreference: {mode: 'secondary'}}");
    assertEquals("find", a.name());
    assertTrue(a.name() == b.name() && a.database() == b.database() && a.collection() == b.collection()
        && a.readPreference() == b.readPreference(), "the second command reuses the first one's strings");
    MongoCommand c = scan("{find: 'Größe', $db: 'app'}");
    assertEquals("Größe", c.collection(), "UTF-8 names decode as before");
  }

  @Test
  void nestedFieldsDoNotHideTheFieldsAfterThem() {
    MongoCommand c = scan("{aggregate: 'o', pipeline: [{$match: {a: {b: 1}}}, {$merge: {into: 'x'}}],"
        + " comment: {mproxy: {priority: 'low'}, other: {deep: {er: 1}}}, $readPreference: {mode: 'nearest', tags: [{}]},"
        + " cursor: {}, $db: 'app'}");
    assertTrue(c.writeStage());
    assertEquals("mproxy: priority=low", c.comment());
    assertEquals("nearest", c.readPreference());
    assertEquals("app", c.database(), "$db after three nested documents is still read");
  }
}

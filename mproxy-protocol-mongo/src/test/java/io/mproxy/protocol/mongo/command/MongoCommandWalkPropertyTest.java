package io.mproxy.protocol.mongo.command;

import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.bson.BsonDocument;

/**
 * Real driver commands with bytes of their body changed at random: the one walk that validates,
 * scans and fingerprints a copied body ({@link MongoCommand#scan}) must refuse exactly the bodies
 * that validating the whole body in place first refuses, with the same message, and read the
 * same command as a scan of the buffer in place from every body it accepts.
 */
class MongoCommandWalkPropertyTest {

  private static final String LSID = "lsid: {id: {$binary: {base64: 'AAECAwQFBgcICQoLDA0ODw==', subType: '04'}}}";
  private static final String[] COMMANDS = {
      "{find: 'points', filter: {_id: 4242}, limit: 1, singleBatch: true, $db: 'bench', " + LSID + "}",
      "{find: 'users', filter: {age: {$gt: 30}, $or: [{a: 1}, {b: {$in: [1, 2]}}]}, $readPreference: {mode: 'secondary'},"
          + " comment: {mproxy: {priority: 'low', timeout_ms: 500}}, maxTimeMS: 100, $db: 'app'}",
      "{aggregate: 'orders', pipeline: [{$match: {status: 'A', n: {x: {y: 1}}}}, {$group: {_id: '$c'}}, {$out: 'o'}],"
          + " cursor: {}, $db: 'app', " + LSID + ", txnNumber: {$numberLong: '3'}, autocommit: false, startTransaction: true}",
      "{update: 'users', updates: [{q: {email: 'x@y'}, u: {$set: {a: 1}}, upsert: true}], ordered: true, $db: 'a'}",
      "{getMore: {$numberLong: '123456789012'}, collection: 'big', batchSize: 100, $db: 'app'}",
      "{killCursors: 'big', cursors: [{$numberLong: '42'}], $db: 'app'}",
      "{insert: {not: 'a string'}, documents: [{_id: 1, re: {$regularExpression: {pattern: 'a.c', options: 'i'}},"
          + " d: {$date: 0}, dec: {$numberDecimal: '1.5'}, o: {$oid: '0123456789abcdef01234567'}}], $db: 'a'}",
  };
  private static final byte[] INTERESTING = {0, 1, 2, 3, 4, 5, 0x0a, 0x10, 0x12, 0x7f, (byte) 0x80, (byte) 0xff};

  private final BsonScanner reused = new BsonScanner();

  @Property(tries = 3000)
  void theOneWalkRefusesWhatValidationRefusesAndReadsTheSameCommand(@ForAll("commands") int which,
      @ForAll("positions") int where, @ForAll("values") byte value, @ForAll("depths") int maxDepth) {
    byte[] body = MongoReplies.encode(BsonDocument.parse(COMMANDS[which]));
    // any byte but the body's own length and terminator, which OpMsg.parse checks before the walk
    body[4 + Math.floorMod(where, body.length - 5)] = value;
    String expected = verdict(() -> BsonScanner.validate(Unpooled.wrappedBuffer(body), 0, body.length, maxDepth));
    MongoFrame f = frame(body);
    try {
      OpMsg m = OpMsg.parse(f);
      String[] read = new String[2];
      String copied = verdict(() -> read[0] = MongoCommandTest.describe(MongoCommand.scan(f, m,
          reused.reset(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength()), maxDepth)));
      if (!reused.copied()) {
        throw new AssertionError("a body of " + body.length + " bytes was not copied");
      }
      String inPlace = verdict(() -> read[1] = MongoCommandTest.describe(MongoCommand.scan(f, m,
          BsonScanner.of(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength()), maxDepth)));
      if (!expected.equals(copied) || !expected.equals(inPlace)) {
        throw new AssertionError("validation: " + expected + ", one walk copied: " + copied + ", in place: " + inPlace);
      }
      if (read[0] != null && !read[0].equals(read[1])) {
        throw new AssertionError("copied: " + read[0] + "\nin place: " + read[1]);
      }
    } finally {
      f.release();
    }
  }

  private static String verdict(Runnable r) {
    try {
      r.run();
      return "ok";
    } catch (MongoCodecException e) {
      return e.getMessage();
    }
  }

  private static MongoFrame frame(byte[] body) {
    int length = 16 + 4 + 1 + body.length;
    ByteBuf b = Unpooled.buffer(length);
    b.writeIntLE(length).writeIntLE(5).writeIntLE(0).writeIntLE(2013).writeIntLE(0).writeByte(0).writeBytes(body);
    return new MongoFrame(b);
  }

  @Provide
  Arbitrary<Integer> commands() {
    return Arbitraries.integers().between(0, COMMANDS.length - 1);
  }

  @Provide
  Arbitrary<Integer> positions() {
    return Arbitraries.integers().greaterOrEqual(0);
  }

  @Provide
  Arbitrary<Byte> values() {
    return Arbitraries.oneOf(Arbitraries.of(INTERESTING[0], INTERESTING[1], INTERESTING[2], INTERESTING[3],
        INTERESTING[4], INTERESTING[5], INTERESTING[6], INTERESTING[7], INTERESTING[8], INTERESTING[9],
        INTERESTING[10], INTERESTING[11]), Arbitraries.bytes());
  }

  @Provide
  Arbitrary<Integer> depths() {
    return Arbitraries.of(1, 2, 3, 4, 100);
  }
}

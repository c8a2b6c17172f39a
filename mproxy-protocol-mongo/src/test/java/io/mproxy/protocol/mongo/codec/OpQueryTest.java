package io.mproxy.protocol.mongo.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OpQueryTest {

  @Test
  void legacyHandshakeIsParsed() {
    MongoFrame f = Messages.frame(Messages.opQuery(3, "admin.$cmd", "{isMaster: 1, helloOk: true}"));
    try {
      OpQuery q = OpQuery.parse(f);
      assertEquals("admin.$cmd", q.fullCollectionName());
      assertTrue(q.isCommand());
      assertEquals("admin", q.database());
      BsonScanner s = q.query(f);
      assertTrue(s.next());
      assertEquals("isMaster", s.name());
      assertTrue(s.truthy());
    } finally {
      f.release();
    }
  }

  @Test
  void unterminatedNameAndBadQueryAreErrors() {
    MongoFrame a = Messages.frame(Messages.raw(4, OpCode.OP_QUERY, new byte[] {0, 0, 0, 0, 'a', 'b'}));
    MongoFrame b = Messages.frame(Messages.raw(5, OpCode.OP_QUERY,
        Messages.concat(new byte[] {0, 0, 0, 0, 'a', 0}, new byte[8], Messages.le(99))));
    try {
      assertEquals(4, assertThrows(MongoCodecException.class, () -> OpQuery.parse(a)).requestId());
      assertEquals(5, assertThrows(MongoCodecException.class, () -> OpQuery.parse(b)).requestId());
    } finally {
      a.release();
      b.release();
    }
  }
}

package io.mproxy.protocol.mongo.codec;

import static io.mproxy.protocol.mongo.codec.Messages.frame;
import static io.mproxy.protocol.mongo.codec.Messages.opMsg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpMsgTest {

  @Test
  void kindZeroBodyOnly() {
    MongoFrame f = frame(opMsg(1, 0, "{find: 'users', filter: {a: 1}, $db: 'app'}"));
    try {
      OpMsg m = OpMsg.parse(f);
      assertFalse(m.checksumPresent());
      assertFalse(m.moreToCome());
      assertTrue(m.sequences().isEmpty());
      BsonScanner s = m.body(f);
      assertTrue(s.next());
      assertEquals("find", s.name());
      assertEquals("users", s.stringValue());
    } finally {
      f.release();
    }
  }

  @Test
  void kindOneDocumentSequences() {
    MongoFrame f = frame(opMsg(2, 0, "{insert: 'c', $db: 'app'}",
        "documents", List.of("{_id: 1}", "{_id: 2}", "{_id: 3}")));
    try {
      OpMsg m = OpMsg.parse(f);
      assertEquals(1, m.sequences().size());
      OpMsg.Sequence seq = m.sequences().get(0);
      assertEquals("documents", seq.identifier());
      int docs = 0;
      for (int at = seq.documentsStart(); at < seq.documentsEnd(); docs++) {
        at += BsonScanner.documentLength(f.content(), at, seq.documentsEnd());
      }
      assertEquals(3, docs);
    } finally {
      f.release();
    }
  }

  @Test
  void flagsMoreToComeAndExhaustAllowed() {
    MongoFrame f = frame(opMsg(3, OpMsg.MORE_TO_COME | OpMsg.EXHAUST_ALLOWED, "{insert: 'c', $db: 'a'}"));
    try {
      OpMsg m = OpMsg.parse(f);
      assertTrue(m.moreToCome());
      assertTrue(m.exhaustAllowed());
      assertEquals(OpMsg.MORE_TO_COME | OpMsg.EXHAUST_ALLOWED, OpMsg.flagsOf(f.content()));
    } finally {
      f.release();
    }
  }

  @Test
  void validChecksumIsAcceptedAndCanBeStripped() {
    MongoFrame f = frame(opMsg(4, OpMsg.CHECKSUM_PRESENT, "{ping: 1, $db: 'admin'}", "x", List.of("{a: 1}")));
    try {
      OpMsg m = OpMsg.parse(f);
      assertTrue(m.checksumPresent());
      ByteBuf stripped = OpMsg.withoutChecksum(ByteBufAllocator.DEFAULT, f);
      MongoFrame g = new MongoFrame(stripped);
      try {
        assertEquals(f.size() - 4, g.size());
        assertEquals(g.size(), g.content().getIntLE(0), "the length field matches");
        OpMsg n = OpMsg.parse(g);
        assertFalse(n.checksumPresent());
        assertEquals(1, n.sequences().size());
        assertEquals(4, g.requestId());
      } finally {
        g.release();
      }
    } finally {
      f.release();
    }
  }

  @Test
  void aFieldAppendedToTheBodyKeepsTheRestAndDropsTheChecksum() {
    MongoFrame f = frame(opMsg(6, OpMsg.CHECKSUM_PRESENT | OpMsg.EXHAUST_ALLOWED,
        "{find: 'users', filter: {a: 1}, $db: 'app'}", "x", List.of("{a: 1}", "{b: 2}")));
    try {
      OpMsg m = OpMsg.parse(f);
      MongoFrame g = new MongoFrame(OpMsg.withBodyField(ByteBufAllocator.DEFAULT, f, m, "maxTimeMS", 1234L));
      try {
        assertEquals(g.size(), g.content().getIntLE(0), "the length field matches");
        assertEquals(6, g.requestId());
        OpMsg n = OpMsg.parse(g);
        assertFalse(n.checksumPresent());
        assertTrue(n.exhaustAllowed(), "other flags stay");
        assertEquals(m.bodyLength() + 1 + "maxTimeMS".length() + 1 + 8, n.bodyLength());
        assertEquals(1, n.sequences().size(), "the document sequence follows the body unchanged");
        int docs = 0;
        OpMsg.Sequence seq = n.sequences().get(0);
        for (int at = seq.documentsStart(); at < seq.documentsEnd(); docs++) {
          at += BsonScanner.documentLength(g.content(), at, seq.documentsEnd());
        }
        assertEquals(2, docs);
        org.bson.BsonDocument body = new org.bson.RawBsonDocument(ByteBufUtil.getBytes(g.content(), n.bodyStart(),
            n.bodyLength()));
        assertEquals(org.bson.BsonDocument.parse("{find: 'users', filter: {a: 1}, $db: 'app'}")
            .append("maxTimeMS", new org.bson.BsonInt64(1234)), body);
      } finally {
        g.release();
      }
    } finally {
      f.release();
    }
  }

  @Test
  void checksumMismatchIsAnError() {
    byte[] bytes = opMsg(5, OpMsg.CHECKSUM_PRESENT, "{ping: 1, $db: 'admin'}");
    bytes[bytes.length - 1] ^= 0x5A;
    MongoFrame f = frame(bytes);
    try {
      MongoCodecException e = assertThrows(MongoCodecException.class, () -> OpMsg.parse(f));
      assertTrue(e.getMessage().contains("checksum"), e.getMessage());
      assertEquals(5, e.requestId());
    } finally {
      f.release();
    }
  }

  @Test
  void unknownRequiredFlagBitIsAnError() {
    assertInvalid(opMsg(6, 1 << 3, "{ping: 1}"), "unknown required flag");
  }

  @Test
  void optionalUnknownFlagBitIsIgnored() {
    MongoFrame f = frame(opMsg(6, 1 << 20, "{ping: 1}"));
    try {
      OpMsg.parse(f);
    } finally {
      f.release();
    }
  }

  @Test
  void twoBodiesNoBodyAndUnknownKindsAreErrors() {
    byte[] body = Messages.bson("{ping: 1}");
    assertInvalid(Messages.raw(9, OpCode.OP_MSG, Messages.concat(Messages.le(0), new byte[] {0}, body,
        new byte[] {0}, body)), "more than one body");
    assertInvalid(Messages.raw(9, OpCode.OP_MSG, Messages.concat(Messages.le(0), new byte[] {1},
        Messages.le(4 + 2 + body.length), new byte[] {'x', 0}, body)), "no body");
    assertInvalid(Messages.raw(9, OpCode.OP_MSG, Messages.concat(Messages.le(0), new byte[] {2}, body)),
        "kind 2");
  }

  @Test
  void lengthsThatDoNotFitAreErrors() {
    byte[] bytes = opMsg(10, 0, "{ping: 1, $db: 'admin'}");
    bytes[21] = 127; // body document length far past the message
    assertInvalid(bytes, "does not fit");
    byte[] seq = opMsg(11, 0, "{insert: 'c'}", "documents", List.of("{_id: 1}"));
    int seqSizeAt = 16 + 4 + 1 + Messages.bson("{insert: 'c'}").length + 1;
    seq[seqSizeAt] = 120;
    assertInvalid(seq, "does not fit");
    assertInvalid(Messages.raw(12, OpCode.OP_MSG, Messages.le(0)), "too short");
  }

  @Test
  void badBsonInsideTheBodyIsFoundByValidation() {
    byte[] bytes = opMsg(13, 0, "{find: 'users', $db: 'app'}");
    bytes[16 + 4 + 1 + 4] = 0x42; // the first element's type byte
    MongoFrame f = frame(bytes);
    try {
      OpMsg m = OpMsg.parse(f);
      MongoCodecException e = assertThrows(MongoCodecException.class,
          () -> BsonScanner.validate(f.content(), m.bodyStart(), m.bodyStart() + m.bodyLength(), 10));
      assertTrue(e.getMessage().contains("unknown BSON type 0x42"), e.getMessage());
    } finally {
      f.release();
    }
  }

  @Test
  void stripPreservesEverySectionByte() {
    byte[] plain = opMsg(14, 0, "{ping: 1}", "d", List.of("{a: 1}"));
    byte[] summed = opMsg(14, OpMsg.CHECKSUM_PRESENT, "{ping: 1}", "d", List.of("{a: 1}"));
    MongoFrame f = frame(summed);
    ByteBuf out = OpMsg.withoutChecksum(ByteBufAllocator.DEFAULT, f);
    try {
      assertEquals(Unpooled.wrappedBuffer(plain), out);
    } finally {
      out.release();
      f.release();
    }
    assertEquals(plain.length, ByteBufUtil.getBytes(Unpooled.wrappedBuffer(plain)).length);
  }

  private static void assertInvalid(byte[] bytes, String why) {
    MongoFrame f = frame(bytes);
    try {
      MongoCodecException e = assertThrows(MongoCodecException.class, () -> OpMsg.parse(f));
      assertTrue(e.getMessage().contains(why), "expected '" + why + "' in: " + e.getMessage());
    } finally {
      f.release();
    }
  }
}

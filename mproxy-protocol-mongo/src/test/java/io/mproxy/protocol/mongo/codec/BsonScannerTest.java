package io.mproxy.protocol.mongo.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class BsonScannerTest {

  @Test
  void readsEveryCommonTypeInPlace() {
    ByteBuf b = Unpooled.wrappedBuffer(Messages.bson("{s: 'x', i: 5, l: {$numberLong: '7'}, d: 2.0, t: true,"
        + " n: null, o: {$oid: '0123456789abcdef01234567'}, bin: {$binary: {base64: 'AQID', subType: '04'}},"
        + " doc: {a: [1, 2]}, re: {$regularExpression: {pattern: 'a.c', options: 'i'}},"
        + " dt: {$date: 0}, ts: {$timestamp: {t: 1, i: 2}}, dec: {$numberDecimal: '1.5'}}"));
    BsonScanner s = BsonScanner.of(b, 0);
    assertTrue(s.next());
    assertEquals("x", s.stringValue());
    assertTrue(s.next());
    assertEquals(5, s.longValue());
    assertTrue(s.next());
    assertEquals(7, s.longValue());
    assertTrue(s.next());
    assertEquals(2, s.longValue());
    assertTrue(s.next());
    assertTrue(s.booleanValue());
    assertTrue(s.next());
    assertFalse(s.truthy());
    assertTrue(s.next());
    assertEquals(BsonScanner.OBJECT_ID, s.type());
    assertTrue(s.next());
    assertArrayEquals(new byte[] {1, 2, 3}, s.binaryValue());
    assertTrue(s.next());
    BsonScanner doc = s.nested();
    assertTrue(doc.find("a"));
    assertTrue(doc.isDocument());
    int n = 0;
    for (BsonScanner arr = doc.nested(); arr.next(); ) {
      n++;
    }
    assertEquals(2, n);
    assertTrue(s.next());
    assertTrue(s.nameEquals("re"));
    assertTrue(s.next());
    assertTrue(s.next());
    assertTrue(s.next());
    assertTrue(s.nameEquals("dec"));
    assertFalse(s.next());
    BsonScanner.validate(b, 0, b.writerIndex(), 4);
  }

  @Test
  void badLengthsAndTypesAreErrors() {
    byte[] ok = Messages.bson("{s: 'abc'}");
    byte[] longString = ok.clone();
    longString[4 + 1 + 2] = 100; // the string's length prefix
    assertThrows(MongoCodecException.class, () -> scanAll(longString));
    byte[] badType = ok.clone();
    badType[4] = 0x33;
    assertThrows(MongoCodecException.class, () -> scanAll(badType));
    byte[] noTerminator = ok.clone();
    noTerminator[noTerminator.length - 1] = 1;
    assertThrows(MongoCodecException.class, () -> scanAll(noTerminator));
    assertThrows(MongoCodecException.class, () -> scanAll(new byte[] {5, 0, 0}));
  }

  @Test
  void nestingDeeperThanTheLimitIsAnError() {
    String deep = "{a: ".repeat(20) + "1" + "}".repeat(20);
    ByteBuf b = Unpooled.wrappedBuffer(Messages.bson(deep));
    BsonScanner.validate(b, 0, b.writerIndex(), 21);
    MongoCodecException e = assertThrows(MongoCodecException.class, () -> BsonScanner.validate(b, 0, b.writerIndex(), 10));
    assertTrue(e.getMessage().contains("too deeply"));
  }

  @Test
  void validationDescendsIntoEveryNestedDocumentAndComesBackOut() {
    byte[] ok = Messages.bson("{a: {x: {y: 1}}, b: [1, {c: 'd'}], e: 'tail'}");
    scanAll(ok);
    byte[] badInSecondNested = ok.clone();
    badInSecondNested[indexOf(ok, new byte[] {BsonScanner.STRING, 'c', 0})] = 0x33;
    assertThrows(MongoCodecException.class, () -> scanAll(badInSecondNested), "an unknown type two levels down");
    byte[] badAfterNested = ok.clone();
    badAfterNested[ok.length - 2] = 1; // the terminator of 'tail', after both nested documents
    assertThrows(MongoCodecException.class, () -> scanAll(badAfterNested), "the element after the nested ones");
  }

  @Test
  void enterAndExitWalkNestedDocumentsInPlace() {
    ByteBuf b = Unpooled.wrappedBuffer(Messages.bson("{a: {b: {c: 1, c2: 2}, d: 'x'}, e: [7, 8], f: true}"));
    BsonScanner s = new BsonScanner().reset(b, 0, b.writerIndex());
    assertTrue(s.next());
    long outer = s.enter();
    assertTrue(s.next());
    assertTrue(s.nameEquals("b"));
    long inner = s.enter();
    assertTrue(s.next());
    assertTrue(s.nameEquals("c"), "left after one element of b");
    s.exit(inner);
    assertTrue(s.nameEquals("b") && s.isDocument(), "exit makes the entered element current again");
    assertTrue(s.next());
    assertTrue(s.nameEquals("d"), "exit resumes after b, however little of it was read");
    assertFalse(s.next(), "the end of a");
    s.exit(outer);
    assertTrue(s.next());
    assertTrue(s.nameEquals("e"));
    long array = s.enter();
    assertTrue(s.next());
    assertEquals(7, s.longValue());
    assertTrue(s.next());
    assertEquals(8, s.longValue());
    assertFalse(s.next());
    s.exit(array);
    assertTrue(s.next());
    assertTrue(s.nameEquals("f"));
    assertFalse(s.next());
    assertThrows(MongoCodecException.class, () -> {
      BsonScanner t = new BsonScanner().reset(b, 0, b.writerIndex());
      t.find("f");
      t.enter();
    }, "a boolean cannot be entered");
  }

  @Test
  void aResetScannerValidatesAndIsReadyToWalkAgain() {
    ByteBuf first = Unpooled.wrappedBuffer(Messages.bson("{x: {y: [1, {z: 'w'}]}, q: 1}"));
    ByteBuf second = Unpooled.wrappedBuffer(Messages.bson("{n: 'two'}"));
    BsonScanner s = new BsonScanner();
    s.reset(first, 0, first.writerIndex()).validate(10);
    assertTrue(s.next());
    assertTrue(s.nameEquals("x"), "validation leaves the scanner at the first element");
    assertTrue(s.next());
    assertTrue(s.nameEquals("q"));
    s.reset(second, 0, second.writerIndex());
    assertTrue(s.find("n"));
    assertEquals("two", s.stringValue());
    assertEquals(second.writerIndex(), s.length());
    assertThrows(MongoCodecException.class, () -> s.reset(first, 0, 10).validate(10),
        "a document longer than its limit");
    String deep = "{a: ".repeat(20) + "1" + "}".repeat(20);
    ByteBuf d = Unpooled.wrappedBuffer(Messages.bson(deep));
    assertThrows(MongoCodecException.class, () -> s.reset(d, 0, d.writerIndex()).validate(10));
  }

  @Test
  void documentsUpToTheCopyLimitAreCopiedAndLargerOnesReadInPlaceAlike() {
    BsonScanner reused = new BsonScanner();
    for (int size : new int[] {BsonScanner.COPY_LIMIT - 1, BsonScanner.COPY_LIMIT, BsonScanner.COPY_LIMIT + 1, 100}) {
      byte[] doc = documentOfSize(size);
      assertEquals(size, doc.length);
      // behind seven bytes of something else, so absolute and copied indexes differ
      ByteBuf b = Unpooled.wrappedBuffer(Messages.concat(new byte[] {1, 2, 3, 4, 5, 6, 7}, doc, new byte[] {9}));
      reused.reset(b, 7, 7 + size);
      assertEquals(size <= BsonScanner.COPY_LIMIT, reused.copied(), "copied at " + size + " bytes");
      assertEquals(7, reused.start());
      assertEquals(walk(BsonScanner.of(b, 7, 7 + size)), walk(reused),
          "the copy reads what the buffer holds, at the same absolute indexes (" + size + " bytes)");
      reused.reset(b, 7, 7 + size).validate(10);
      assertTrue(reused.find("last"));
      assertEquals("end", reused.stringValue(), "the last element, next to the terminator, is read");
    }
  }

  @Test
  void aCopiedDocumentGivesTheSameErrorsAsTheBufferInPlace() {
    for (int size : new int[] {200, BsonScanner.COPY_LIMIT, BsonScanner.COPY_LIMIT + 1}) {
      byte[] ok = documentOfSize(size);
      byte[][] broken = {
          set(ok, indexOf(ok, new byte[] {BsonScanner.STRING, 'k', 0}), (byte) 0x33), // unknown type, nested
          set(ok, ok.length - 2, (byte) 1), // the last string's terminator
          set(ok, indexOf(ok, new byte[] {BsonScanner.STRING, 'l', 'a', 's', 't', 0}) + 6, (byte) 0x7f), // its length
          set(ok, indexOf(ok, new byte[] {BsonScanner.DOCUMENT, 't', 'a', 'i', 'l', 0}) + 6, (byte) 0x7f), // a nested length
      };
      for (byte[] bad : broken) {
        ByteBuf b = Unpooled.wrappedBuffer(bad);
        MongoCodecException inPlace = assertThrows(MongoCodecException.class,
            () -> BsonScanner.validate(b, 0, b.writerIndex(), 10));
        MongoCodecException copied = assertThrows(MongoCodecException.class,
            () -> new BsonScanner().reset(b, 0, b.writerIndex()).validate(10));
        assertEquals(inPlace.getMessage(), copied.getMessage(), "at " + size + " bytes");
      }
    }
  }

  @Test
  void aCopiedNestedScannerAndBinaryValueReadTheCopy() {
    ByteBuf b = Unpooled.wrappedBuffer(Messages.concat(new byte[3],
        Messages.bson("{a: {b: {$binary: {base64: 'AQID', subType: '04'}}, n: {$numberLong: '-5'}, d: 2.5}}")));
    BsonScanner s = new BsonScanner().reset(b, 3, b.writerIndex());
    assertTrue(s.copied());
    assertTrue(s.next());
    BsonScanner a = s.nested();
    assertTrue(a.find("b"));
    assertArrayEquals(new byte[] {1, 2, 3}, a.binaryValue());
    assertTrue(a.next());
    assertEquals(-5, a.longValue());
    assertTrue(a.next());
    assertEquals(2, a.longValue());
    assertTrue(a.truthy());
  }

  @Test
  void namesOfEveryLengthAtEveryAlignmentEndAtTheirTerminator() {
    BsonScanner reused = new BsonScanner();
    String[] alphabets = {"n", "\u0001", "\u00ff", "\u0080\u0001", "é名", "\u007f"};
    for (String alphabet : alphabets) {
      for (int length = 0; length <= 20; length++) {
        StringBuilder name = new StringBuilder();
        while (name.length() < length) {
          name.append(alphabet.charAt(name.length() % alphabet.length()));
        }
        org.bson.BsonDocument d = new org.bson.BsonDocument(name.toString(), new org.bson.BsonInt32(length))
            .append("re", new org.bson.BsonRegularExpression(name.toString(), "i"))
            .append(name + "2", new org.bson.BsonString(name.toString()));
        byte[] doc = io.mproxy.protocol.mongo.codec.MongoReplies.encode(d);
        for (int shift = 0; shift < 8; shift++) {
          ByteBuf b = Unpooled.wrappedBuffer(Messages.concat(new byte[shift], doc));
          reused.reset(b, shift, b.writerIndex());
          assertTrue(reused.copied());
          assertEquals(walk(BsonScanner.of(b, shift, b.writerIndex())), walk(reused), name + " at " + shift);
          reused.reset(b, shift, b.writerIndex());
          assertTrue(reused.next());
          assertEquals(name.toString(), reused.name());
          assertEquals(length, reused.longValue());
          assertTrue(reused.next());
          assertTrue(reused.nameEquals("re"), "the regex's two strings end where they do");
          assertTrue(reused.next());
          assertEquals(name + "2", reused.name());
          assertFalse(reused.next());
        }
      }
    }
  }

  /** {@code {pad: 'xxx…', tail: {k: 'v'}, last: 'end'}} of exactly {@code size} bytes. */
  private static byte[] documentOfSize(int size) {
    int overhead = Messages.bson("{pad: '', tail: {k: 'v'}, last: 'end'}").length;
    return Messages.bson("{pad: '" + "x".repeat(size - overhead) + "', tail: {k: 'v'}, last: 'end'}");
  }

  private static byte[] set(byte[] bytes, int at, byte value) {
    byte[] copy = bytes.clone();
    copy[at] = value;
    return copy;
  }

  /** Every element, nested ones included, as name, type, absolute value index, length and value. */
  private static java.util.List<String> walk(BsonScanner s) {
    java.util.List<String> out = new java.util.ArrayList<>();
    while (s.next()) {
      out.add(s.name() + " " + s.type() + " " + s.valueStart() + " " + s.valueLength() + " "
          + (s.isString() ? shortened(s.stringValue()) : s.isNumber() ? Long.toString(s.longValue()) : ""));
      if (s.isDocument()) {
        long back = s.enter();
        out.addAll(walk(s));
        s.exit(back);
      }
    }
    return out;
  }

  /** Long values as their length and hash, so a failed comparison stays readable. */
  private static String shortened(String value) {
    return value.length() <= 16 ? value : value.length() + "#" + value.hashCode();
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
    throw new AssertionError("not found");
  }

  private static void scanAll(byte[] bytes) {
    ByteBuf b = Unpooled.wrappedBuffer(bytes);
    BsonScanner.validate(b, 0, b.writerIndex(), 10);
  }
}

package io.mproxy.protocol.mongo.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8InternerTest {

  private static String intern(Utf8Interner interner, String text) {
    ByteBuf b = Unpooled.buffer();
    try {
      b.writeBytes("xx".getBytes(StandardCharsets.UTF_8));
      int at = b.writerIndex();
      int n = b.writeCharSequence(text, StandardCharsets.UTF_8);
      b.writeByte(0);
      return interner.intern(b, at, n);
    } finally {
      b.release();
    }
  }

  @Test
  void theSameBytesGiveTheSameString() {
    Utf8Interner interner = new Utf8Interner(64);
    String first = intern(interner, "users");
    assertEquals("users", first);
    assertSame(first, intern(interner, "users"));
    assertEquals("orders", intern(interner, "orders"));
    assertEquals("名前", intern(interner, "名前"));
    assertSame(intern(interner, "名前"), intern(interner, "名前"));
    assertEquals("", intern(interner, ""));
  }

  @Test
  void aCollisionReplacesTheSlotAndBothTextsStayCorrect() {
    Utf8Interner one = new Utf8Interner(1); // every text shares the single slot
    assertEquals("a", intern(one, "a"));
    assertEquals("b", intern(one, "b"));
    assertEquals("a", intern(one, "a"));
    // "Aa" and "BB" have the same String hash: the bytes decide
    assertEquals("Aa", intern(one, "Aa"));
    assertEquals("BB", intern(one, "BB"));
  }

  @Test
  void anArrayAndABufferOfTheSameBytesShareOneString() {
    Utf8Interner interner = new Utf8Interner(64);
    byte[] bytes = "..名前.users".getBytes(StandardCharsets.UTF_8);
    String fromArray = interner.intern(bytes, 2, 6);
    assertEquals("名前", fromArray);
    assertSame(fromArray, intern(interner, "名前"), "the buffer's bytes find the array's entry");
    assertSame(intern(interner, "users"), interner.intern(bytes, 9, 5), "and the other way round");
    Utf8Interner one = new Utf8Interner(1);
    assertEquals("Aa", one.intern("xAa".getBytes(StandardCharsets.UTF_8), 1, 2));
    assertEquals("BB", one.intern("xBB".getBytes(StandardCharsets.UTF_8), 1, 2), "equal hashes: the bytes decide");
    String longText = "c".repeat(Utf8Interner.MAX_BYTES + 1);
    byte[] longBytes = longText.getBytes(StandardCharsets.UTF_8);
    assertEquals(longText, interner.intern(longBytes, 0, longBytes.length));
    assertNotSame(interner.intern(longBytes, 0, longBytes.length), interner.intern(longBytes, 0, longBytes.length));
  }

  @Test
  void namesOfEveryLengthAndAlignmentStayCachedSideBySideAndBothVariantsFindThem() {
    // a hash that ignored some bytes, or whose four-byte steps differed between the variants,
    // would crowd these into shared slots (evicting each other) or miss across variants
    Utf8Interner interner = new Utf8Interner(1 << 16);
    String[] names = new String[24];
    for (int n = 1; n < names.length; n++) {
      names[n] = "abcdefghijklmnopqrstuvwxyz".substring(0, n).toUpperCase(java.util.Locale.ROOT).substring(0, n / 2)
          + "0123456789abcdefghijklmn".substring(0, n - n / 2);
    }
    String[] kept = new String[names.length];
    for (int n = 1; n < names.length; n++) {
      kept[n] = intern(interner, names[n]);
      assertEquals(names[n], kept[n]);
    }
    for (int pad = 0; pad < 8; pad++) {
      for (int n = 1; n < names.length; n++) {
        byte[] bytes = (".".repeat(pad) + names[n] + ".").getBytes(StandardCharsets.UTF_8);
        assertSame(kept[n], interner.intern(bytes, pad, n), names[n] + " at offset " + pad);
        assertSame(kept[n], intern(interner, names[n]), names[n] + " from a buffer");
      }
    }
  }

  @Test
  void longTextsAreDecodedButNotKept() {
    Utf8Interner interner = new Utf8Interner(64);
    String text = "c".repeat(Utf8Interner.MAX_BYTES + 1);
    String a = intern(interner, text);
    assertEquals(text, a);
    assertNotSame(a, intern(interner, text));
  }
}

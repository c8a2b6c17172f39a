package io.mproxy.core.fingerprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ShapeInternerTest {

  @Test
  void theSameTextTwiceGivesTheSameString() {
    ShapeInterner interner = new ShapeInterner(64);
    String first = interner.intern(new StringBuilder("GET user:?:profile"));
    String second = interner.intern(new StringBuilder("GET user:?:profile"));
    assertEquals("GET user:?:profile", first);
    assertSame(first, second);
  }

  @Test
  void differentTextsNeverShareAString() {
    ShapeInterner interner = new ShapeInterner(1);
    String a = interner.intern("GET a");
    String b = interner.intern("GET b");
    assertEquals("GET a", a);
    assertEquals("GET b", b);
    // one slot: b replaced a, so a comes back as a new but equal string
    String again = interner.intern(new StringBuilder("GET a"));
    assertEquals("GET a", again);
    assertNotSame(a, again);
  }

  @Test
  void equalLengthAndHashDifferentTextIsNotConfused() {
    ShapeInterner interner = new ShapeInterner(1);
    // "Aa" and "BB" have the same String hash code
    assertEquals("Aa", interner.intern("Aa"));
    assertEquals("BB", interner.intern("BB"));
    assertEquals("Aa", interner.intern("Aa"));
  }

  @Test
  void charArraysShareTheSlotsOfTexts() {
    ShapeInterner interner = new ShapeInterner(64);
    String text = interner.intern("GET user:?:profile");
    char[] scratch = "GET user:?:profile and more".toCharArray();
    assertSame(text, interner.intern(scratch, "GET user:?:profile".length()));
    String shorter = interner.intern(scratch, 3);
    assertEquals("GET", shorter);
    assertSame(shorter, interner.intern(new StringBuilder("GET")));
    assertThrows(IndexOutOfBoundsException.class, () -> interner.intern(scratch, scratch.length + 1));
  }

  @Test
  void aHashGivenByTheCallerFindsTheSameSlotsAndAWrongOneNeverAWrongString() {
    ShapeInterner interner = new ShapeInterner(64);
    String text = interner.intern("SELECT ? FROM t");
    char[] scratch = "SELECT ? FROM t WHERE".toCharArray();
    assertSame(text, interner.intern(scratch, 15, "SELECT ? FROM t".hashCode()));
    // a wrong hash misses (a new string), but the string is the text's
    String missed = interner.intern(scratch, 15, 12345);
    assertEquals("SELECT ? FROM t", missed);
    String other = interner.intern("SELECT".toCharArray(), 6, "SELECT".hashCode());
    assertSame(other, interner.intern(new StringBuilder("SELECT")));
    assertThrows(IndexOutOfBoundsException.class, () -> interner.intern(scratch, scratch.length + 1, 0));
  }

  @Test
  void slotCountIsValidated() {
    assertThrows(IllegalArgumentException.class, () -> new ShapeInterner(0));
  }

  @Test
  void theHashOfCharactersIsTheHashOfTheirString() {
    Random random = new Random(28);
    for (int round = 0; round < 20_000; round++) {
      char[] chars = new char[random.nextInt(48)];
      for (int i = 0; i < chars.length; i++) {
        chars[i] = random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : (char) (0x20 + random.nextInt(0x5f));
      }
      int length = chars.length == 0 ? 0 : random.nextInt(chars.length + 1);
      assertEquals(new String(chars, 0, length).hashCode(), ShapeInterner.hash(chars, length),
          "length " + length);
    }
  }

  @Test
  void equalHashDifferentCharactersAreNotConfused() {
    ShapeInterner interner = new ShapeInterner(1);
    // "Aa" and "BB" have the same hash and length
    assertEquals("Aa", interner.intern("Aa".toCharArray(), 2));
    assertEquals("BB", interner.intern("BB".toCharArray(), 2));
    assertEquals("Aa", interner.intern("Aa".toCharArray(), 2));
  }

  @Test
  void aSlotKeepsItsOwnCopyOfTheCallersCharacters() {
    ShapeInterner interner = new ShapeInterner(1);
    char[] scratch = "GET a".toCharArray();
    String a = interner.intern(scratch, scratch.length);
    // the caller reuses its buffer for the next text
    scratch[4] = 'b';
    assertSame(a, interner.intern(new StringBuilder("GET a")));
    assertSame(a, interner.intern("GET a".toCharArray(), 5));
    assertEquals("GET b", interner.intern(scratch, scratch.length));
  }
}

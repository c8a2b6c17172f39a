package io.mproxy.core.fingerprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
  void slotCountIsValidated() {
    assertThrows(IllegalArgumentException.class, () -> new ShapeInterner(0));
  }
}

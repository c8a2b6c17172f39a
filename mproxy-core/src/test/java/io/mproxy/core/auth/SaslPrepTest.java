package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SaslPrepTest {

  /** RFC 4013 section 3 examples, plus the mapping rules one by one. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "I\u00ADX|IX",          // soft hyphen mapped to nothing
      "user|user",
      "USER|USER",            // no case folding
      "\u00AA|a",             // NFKC
      "\u2168|IX",            // NFKC
      "a\u00A0b|a b",         // non-ASCII space mapped to SPACE
      "a\u3000b|a b",
      "a\uFEFFb|ab",          // zero-width no-break space: mapped to nothing
      "a\u200Bb|a b",         // zero-width space is in C.1.2 and B.1; C.1.2 (to SPACE) wins
      "caf\u0065\u0301|caf\u00E9", // composed by NFKC
      "\u0627\u0628|\u0627\u0628", // right-to-left only
  })
  void preparesAsTheRfcSays(String input, String expected) {
    assertEquals(expected, SaslPrep.prepare(input));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "\u0007",               // RFC 4013 example: prohibited ASCII control
      "\u0627\u0031",         // RFC 4013 example: bidi, RandALCat must end the string
      "a\u0627",              // mixes L and RandALCat
      "a\u0221",              // unassigned in Unicode 3.2
      "a\uE000",              // private use
      "a\uD800b",             // lone surrogate
      "a\uFFFD",              // replacement character (C.6 inappropriate for plain text)
      "a\u200E",              // left-to-right mark (C.8)
  })
  void rejectsProhibitedOutput(String input) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SaslPrep.prepare(input));
    assertTrue(e.getMessage().startsWith("SASLprep:"), e.getMessage());
  }

  @Test
  void prepareOrRawFollowsPostgres() {
    assertEquals("\u0007bell", SaslPrep.prepareOrRaw("\u0007bell"));   // ASCII: untouched
    assertEquals("a\uE000", SaslPrep.prepareOrRaw("a\uE000"));         // rejected: raw
    assertEquals("\u00AD", SaslPrep.prepareOrRaw("\u00AD"));           // maps to empty: raw
    assertEquals("IX", SaslPrep.prepareOrRaw("I\u00ADX"));
  }
}

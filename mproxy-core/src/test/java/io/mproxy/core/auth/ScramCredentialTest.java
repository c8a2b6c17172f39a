package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The verifiers below were produced by a real PostgreSQL 15.18 (Debian 15.18-0+deb12u1): initdb,
 * {@code SET password_encryption='scram-sha-256'; CREATE ROLE x PASSWORD '...'}, then
 * {@code SELECT rolpassword FROM pg_authid}. Reproducing their keys from the password and their salt
 * shows our Hi/HMAC/SASLprep agree with the server's.
 */
class ScramCredentialTest {

  /** CREATE ROLE x PASSWORD 'secret'. */
  private static final String PG_SECRET =
      "SCRAM-SHA-256$4096:6EXKljYLbrAHFyUqUpirLA==$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM="
          + ":Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=";

  @Test
  void reproducesARealPostgresVerifier() {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(PG_SECRET);

    ScramCredential ours = ScramCredential.fromPassword(
        ScramMechanism.SHA_256, "secret", pg.salt(), pg.iterations());

    assertEquals(4096, pg.iterations());
    assertArrayEquals(pg.storedKey(), ours.storedKey());
    assertArrayEquals(pg.serverKey(), ours.serverKey());
    assertEquals(PG_SECRET, ours.toPostgresVerifier());
  }

  /** PostgreSQL SASLpreps non-ASCII passwords and falls back to the raw bytes when it rejects them. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // E'I\u00ADX': soft hyphen is mapped to nothing, so the keys are those of 'IX'
      "I\u00ADX|SCRAM-SHA-256$4096:jgfjMX8cDTz5K0HzxeeLmg==$Nur3jGUAwPlwQrzNGyE0Jq+yZF+fLTGiKMWrteqf/tA=:S8pAgMOCIzM2Vn7cLz0fJOgbSu0AHDQEaM2hA0D9BhE=",
      // E'a\u00A0b': no-break space is mapped to SPACE
      "a\u00A0b|SCRAM-SHA-256$4096:n+VfWQtyYSgaKx6tGjb4tA==$c3vYfJYH7ykIvwT4M6+q1CGto4bHJ0eiiqUvWddJBWI=:6IBJVfzCQQcR2i3s/xL0CKK7U7qzG+cmjkgTgEhidlA=",
  })
  void reproducesRealPostgresVerifiersOfNonAsciiPasswords(String password, String verifier) {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(verifier);

    ScramCredential ours = ScramCredential.fromPassword(
        ScramMechanism.SHA_256, password, pg.salt(), pg.iterations());

    assertEquals(pg, ours);
  }

  /** E'\u0007bell': pure ASCII, used as is (SASLprep would prohibit the control character). */
  @Test
  void reproducesARealPostgresVerifierOfAControlCharacterPassword() {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(
        "SCRAM-SHA-256$4096:IBbk34OHsJUx7OIeFKQgpg==$JjgsYSmDeLsoARsTZq7njcR10WU2jAuuR70GtPVMR1g="
            + ":OYWDJQ4OIgNTrQjlRKjeGFfp8OdiB8CNMBQrEphg3FQ=");
    assertEquals(pg, ScramCredential.fromPassword(ScramMechanism.SHA_256, "\u0007bell", pg.salt(), 4096));
  }

  @Test
  void softHyphenPasswordHasTheKeysOfItsPreparedForm() {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(
        "SCRAM-SHA-256$4096:jgfjMX8cDTz5K0HzxeeLmg==$Nur3jGUAwPlwQrzNGyE0Jq+yZF+fLTGiKMWrteqf/tA="
            + ":S8pAgMOCIzM2Vn7cLz0fJOgbSu0AHDQEaM2hA0D9BhE=");
    assertEquals(pg, ScramCredential.fromPassword(ScramMechanism.SHA_256, "IX", pg.salt(), 4096));
    assertFalse(pg.equals(
        ScramCredential.fromPassword(ScramMechanism.SHA_256, "I-X", pg.salt(), 4096)));
  }

  @Test
  void sha1UsesThePasswordWithoutPreparation() {
    byte[] salt = {9, 8, 7, 6};
    assertFalse(ScramCredential.fromPassword(ScramMechanism.SHA_1, "I\u00ADX", salt, 1)
        .equals(ScramCredential.fromPassword(ScramMechanism.SHA_1, "IX", salt, 1)));
    assertEquals(ScramCredential.fromPassword(ScramMechanism.SHA_256, "I\u00ADX", salt, 1),
        ScramCredential.fromPassword(ScramMechanism.SHA_256, "IX", salt, 1));
  }

  @Test
  void formatThenParseRoundTrips() {
    ScramCredential c = ScramCredential.fromPassword(
        ScramMechanism.SHA_256, "pw", new byte[] {1, 2, 3, 4, 5}, 17);
    ScramCredential back = ScramCredential.parsePostgresVerifier(c.toPostgresVerifier());
    assertEquals(c, back);
    assertEquals(17, back.iterations());
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, back.salt());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "",
      "md5d18bf5f8eddaae3aed1d69b23a252748",
      "SCRAM-SHA-1$4096:6EXKljYLbrAHFyUqUpirLA==$a:b",
      "SCRAM-SHA-256$4096:6EXKljYLbrAHFyUqUpirLA==",
      "SCRAM-SHA-256$x:6EXKljYLbrAHFyUqUpirLA==$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=",
      "SCRAM-SHA-256$0:6EXKljYLbrAHFyUqUpirLA==$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=",
      "SCRAM-SHA-256$4096:!!$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=",
      "SCRAM-SHA-256$4096:6EXKljYLbrAHFyUqUpirLA==$AAAA:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=",
      "SCRAM-SHA-256$4096:6EXKljYLbrAHFyUqUpirLA==$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=",
      "SCRAM-SHA-256$4096:6EXKljYLbrAHFyUqUpirLA==$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=$x",
      "SCRAM-SHA-256$4096:$mt8yl8dJxmWA7hZ7db1NLmSbWAfjx2epM4D7U2ruljM=:Zh3xgGIzQ61JlCZncK+Bwh9FmchaODTbb4Z1UvHvuLM=",
  })
  void badVerifiersAreRejectedWithoutEchoingThem(String verifier) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ScramCredential.parsePostgresVerifier(verifier));
    assertFalse(e.getMessage().contains("mt8yl8dJ"), e.getMessage());
    assertTrue(e.getMessage().contains("verifier") || e.getMessage().contains("salt")
        || e.getMessage().contains("keys"), e.getMessage());
  }

  @Test
  void toStringHidesTheKeys() {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(PG_SECRET);
    assertFalse(pg.toString().contains("mt8yl8dJ"));
    assertEquals("ScramCredential[SCRAM-SHA-256, iterations=4096]", pg.toString());
  }

  @Test
  void credentialIsImmutable() {
    ScramCredential pg = ScramCredential.parsePostgresVerifier(PG_SECRET);
    pg.storedKey()[0] ^= 1;
    pg.salt()[0] ^= 1;
    assertEquals(PG_SECRET, pg.toPostgresVerifier());
  }

  @Test
  void sha1HasNoPostgresForm() {
    ScramCredential c = ScramCredential.fromPassword(ScramMechanism.SHA_1, "pw", new byte[] {1}, 1);
    assertThrows(IllegalStateException.class, c::toPostgresVerifier);
  }

  @Test
  void mechanismNames() {
    assertEquals(ScramMechanism.SHA_256, ScramMechanism.fromName("SCRAM-SHA-256").orElseThrow());
    assertEquals(ScramMechanism.SHA_1, ScramMechanism.fromName("SCRAM-SHA-1").orElseThrow());
    assertTrue(ScramMechanism.fromName("SCRAM-SHA-256-PLUS").isEmpty());
    assertEquals(20, ScramMechanism.SHA_1.keyLength());
    assertEquals(32, ScramMechanism.SHA_256.keyLength());
  }
}

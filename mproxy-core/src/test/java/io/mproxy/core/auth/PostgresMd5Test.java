package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PostgresMd5Test {

  /** From a real PostgreSQL 15.18: SET password_encryption='md5'; CREATE ROLE y PASSWORD 'secret'. */
  private static final String PG_AUTHID_Y = "md5d18bf5f8eddaae3aed1d69b23a252748";

  private static final byte[] SALT = {0x01, 0x02, (byte) 0xfe, (byte) 0xff};

  /** md5(md5("secrety") hex + SALT), computed independently with Python's hashlib. */
  private static final String RESPONSE = "md58d1d7c11963e52ec473303fd009d22e5";

  @Test
  void hashMatchesRealPgAuthid() {
    assertEquals(PG_AUTHID_Y, PostgresMd5.hash("y", "secret"));
    assertTrue(PostgresMd5.isHash(PG_AUTHID_Y));
    assertFalse(PostgresMd5.isHash("secret"));
  }

  @Test
  void responseMatchesAnIndependentComputation() {
    assertEquals(RESPONSE, PostgresMd5.response("y", "secret", SALT));
  }

  @Test
  void verifiesAgainstAStoredHashOrAPlainPassword() {
    assertTrue(PostgresMd5.verify(PG_AUTHID_Y, "y", SALT, RESPONSE));
    assertTrue(PostgresMd5.verify("secret", "y", SALT, RESPONSE));
    assertTrue(PostgresMd5.verify(PG_AUTHID_Y.toUpperCase().replace("MD5", "md5"), "y", SALT, RESPONSE));
  }

  @Test
  void refusesWrongAnswers() {
    assertFalse(PostgresMd5.verify("secret", "other", SALT, RESPONSE));
    assertFalse(PostgresMd5.verify("Secret", "y", SALT, RESPONSE));
    assertFalse(PostgresMd5.verify(PG_AUTHID_Y, "y", new byte[] {1, 2, 3, 4}, RESPONSE));
    assertFalse(PostgresMd5.verify(PG_AUTHID_Y, "y", SALT, PG_AUTHID_Y));
    assertFalse(PostgresMd5.verify(PG_AUTHID_Y, "y", SALT, ""));
    assertFalse(PostgresMd5.verify(PG_AUTHID_Y, "y", SALT, null));
  }

  @Test
  void saltMustBeFourBytes() {
    assertThrows(IllegalArgumentException.class, () -> PostgresMd5.response("y", "secret", new byte[3]));
    assertThrows(IllegalArgumentException.class, () -> PostgresMd5.verify("secret", "y", null, RESPONSE));
  }
}

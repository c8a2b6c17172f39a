package io.mproxy.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PgStatementTest {

  @Test
  void equalTextAndTypesShareAServerName() {
    byte[] none = {0, 0};
    byte[] oneInt = {0, 1, 0, 0, 0, 23};
    String a = PgStatement.serverName("SELECT $1", oneInt);
    assertEquals(a, PgStatement.serverName("SELECT $1", oneInt.clone()));
    assertNotEquals(a, PgStatement.serverName("SELECT $1", none));
    assertNotEquals(a, PgStatement.serverName("SELECT $2", oneInt));
    assertTrue(a.startsWith("mp_") && a.length() < 64, a);
  }
}

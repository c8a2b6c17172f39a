package io.mproxy.protocol.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class SessionFunctionsTest {

  private static final SessionFunctions.Values V = new SessionFunctions.Values(7, 42, 3);

  private static String rewrite(String sql) {
    return SessionFunctions.rewrite(sql, V, true);
  }

  @Test
  void aWholeSelectItemKeepsItsColumnName() {
    assertEquals("SELECT 7 AS `CONNECTION_ID()`", rewrite("SELECT CONNECTION_ID()"));
    assertEquals("select 42 AS `last_insert_id()`, 3 AS `ROW_COUNT()` from dual",
        rewrite("select last_insert_id(), ROW_COUNT() from dual"));
    assertEquals("SELECT 7 AS id", rewrite("SELECT CONNECTION_ID() AS id"));
  }

  @Test
  void callsInsideExpressionsBecomeLiterals() {
    assertEquals("SELECT CONCAT('x', 7)", rewrite("SELECT CONCAT('x', CONNECTION_ID())"));
    assertEquals("SELECT IF(1, 42, 0) FROM t", rewrite("SELECT IF(1, LAST_INSERT_ID(), 0) FROM t"));
    assertEquals("UPDATE t SET v = 1 WHERE id = 42", rewrite("UPDATE t SET v = 1 WHERE id = LAST_INSERT_ID()"));
    assertEquals("SELECT * FROM information_schema.processlist WHERE id = 7",
        rewrite("SELECT * FROM information_schema.processlist WHERE id = CONNECTION_ID ( )"));
  }

  @Test
  void stringsCommentsSettersAndOtherStatementsAreLeftAlone() {
    assertNull(rewrite("SELECT 'CONNECTION_ID()'"));
    assertNull(rewrite("SELECT `LAST_INSERT_ID()` FROM t"));
    assertNull(rewrite("/* ROW_COUNT() */ SELECT 1"));
    assertNull(rewrite("SELECT LAST_INSERT_ID(5)"));
    assertNull(rewrite("SELECT 1"));
    assertNull(SessionFunctions.rewrite("INSERT INTO t VALUES (); SELECT LAST_INSERT_ID()", V, false),
        "the id of an insert earlier in the same query is the server's to answer");
    assertEquals("SELECT 1; SELECT 7 AS `CONNECTION_ID()`",
        SessionFunctions.rewrite("SELECT 1; SELECT CONNECTION_ID()", V, false));
  }

  @Test
  void lastInsertIdIsUnsigned() {
    assertEquals("SELECT 18446744073709551615 AS `LAST_INSERT_ID()`",
        SessionFunctions.rewrite("SELECT LAST_INSERT_ID()", new SessionFunctions.Values(1, -1L, 0), true));
  }
}

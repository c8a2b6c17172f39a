package io.mproxy.protocol.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
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

  @Test
  void containsIgnoreCaseFindsWhatRegionMatchesFinds() {
    assertTrue(SessionFunctions.containsIgnoreCase("select sql_calc_found_rows a", "SQL_CALC_FOUND_ROWS"));
    assertFalse(SessionFunctions.containsIgnoreCase("select sql_calc_found_row", "SQL_CALC_FOUND_ROWS"));
    // a long s (U+017F) upper-cases to S: regionMatches ignoring case takes it for one
    assertTrue(SessionFunctions.containsIgnoreCase("SELECT \u017fQL_CALC_FOUND_ROWS", "SQL_CALC_FOUND_ROWS"));
    String[] needles = {"SQL_CALC_FOUND_ROWS", "CONNECTION_ID", "LAST_INSERT_ID", "ROW_COUNT"};
    String alphabet = "sSqQlLrRoOwW_cCnN \u017f\u0131\u212a\u00e9iI";
    Random random = new Random(13);
    for (int round = 0; round < 200_000; round++) {
      String needle = needles[random.nextInt(needles.length)];
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(30);
      for (int i = 0; i < length; i++) {
        text.append(random.nextInt(4) == 0 ? alphabet.charAt(random.nextInt(alphabet.length()))
            : needle.charAt(Math.min(i % 24, needle.length() - 1)));
      }
      if (random.nextBoolean()) {
        text.insert(random.nextInt(text.length() + 1), random.nextBoolean() ? needle : needle.toLowerCase());
      }
      String s = text.toString();
      boolean expected = false;
      for (int i = 0; i + needle.length() <= s.length() && !expected; i++) {
        expected = s.regionMatches(true, i, needle, 0, needle.length());
      }
      assertEquals(expected, SessionFunctions.containsIgnoreCase(s, needle), s);
    }
  }
}

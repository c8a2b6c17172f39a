package io.mproxy.core.hint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.Priority;
import io.mproxy.core.sql.SqlDialect;
import org.junit.jupiter.api.Test;

class HintParserTest {

  private static QueryHints pg(String sql) {
    return HintParser.fromSql(SqlDialect.POSTGRES, sql);
  }

  @Test
  void readsTheMproxyComment() {
    QueryHints h = pg("/* mproxy: priority=low timeout_ms=500 group=batch */ SELECT 1");
    assertEquals(Priority.LOW, h.priority());
    assertEquals(500, h.timeoutMs());
    assertEquals("batch", h.group());
    assertEquals(0, h.unknownKeys());
    assertTrue(h.present());
  }

  @Test
  void readsEveryCommentBeforeTheFirstTokenAndLaterOnesWin() {
    QueryHints h = pg("  -- mproxy: priority=high\n/* other */ /*mproxy priority=low, timeout_ms=9*/\nSELECT 1");
    assertEquals(Priority.LOW, h.priority());
    assertEquals(9, h.timeoutMs());
  }

  @Test
  void ignoresCommentsAfterTheFirstToken() {
    assertSame(QueryHints.NONE, pg("SELECT /* mproxy: priority=low */ 1"));
    assertSame(QueryHints.NONE, pg("SELECT 1 -- mproxy: priority=low"));
  }

  @Test
  void readsTheOptimizerResourceGroupForm() {
    assertEquals("batch", pg("/*+ RESOURCE_GROUP(batch) */ SELECT 1").group());
    assertEquals("rg_2", HintParser.fromSql(SqlDialect.MYSQL,
        "/*+ MAX_EXECUTION_TIME(10) resource_group( rg_2 ) */ SELECT 1").group());
    assertSame(QueryHints.NONE, pg("/*+ SET_VAR(x=1) */ SELECT 1"), "other optimizer hints are the database's");
    assertSame(QueryHints.NONE, pg("/*+ MY_RESOURCE_GROUP(x) */ SELECT 1"));
  }

  @Test
  void unknownKeysAndBadValuesAreCountedAndIgnored() {
    QueryHints h = pg("/* mproxy: colour=blue priority=urgent timeout_ms=-3 timeout_ms=abc group=a;b novalue */ SELECT 1");
    assertNull(h.priority());
    assertNull(h.group());
    assertEquals(0, h.timeoutMs());
    assertEquals(2, h.unknownKeys());
    assertEquals(4, h.badValues());
    assertFalse(h.present());
  }

  @Test
  void timeoutsAreBounded() {
    assertEquals(0, pg("/* mproxy: timeout_ms=0 */ SELECT 1").timeoutMs());
    assertEquals(0, pg("/* mproxy: timeout_ms=99999999999999999999 */ SELECT 1").timeoutMs());
    assertEquals(QueryHints.MAX_TIMEOUT_MS, pg("/* mproxy: timeout_ms=86400000 */ SELECT 1").timeoutMs());
  }

  @Test
  void plainStatementsAndOtherCommentsHaveNoHints() {
    assertSame(QueryHints.NONE, pg("SELECT 1"));
    assertSame(QueryHints.NONE, pg("/* a mproxy: priority=low */ SELECT 1"));
    assertSame(QueryHints.NONE, pg("/* mproxyx: priority=low */ SELECT 1"));
    assertSame(QueryHints.NONE, pg(""));
    assertSame(QueryHints.NONE, pg("/"));
  }

  @Test
  void unterminatedCommentsDoNotThrow() {
    assertEquals(Priority.LOW, pg("/* mproxy: priority=low").priority());
    QueryHints h = pg("/*+ RESOURCE_GROUP(batch");
    assertNull(h.group());
    assertEquals(1, h.badValues());
  }

  @Test
  void onlyTheFirstCharactersAreScanned() {
    String pad = "/* " + "x".repeat(HintParser.MAX_SCAN) + " */";
    assertSame(QueryHints.NONE, pg(pad + "/* mproxy: priority=low */ SELECT 1"));
    String longStatement = "/* mproxy: priority=high */ SELECT '" + "y".repeat(1_000_000) + "'";
    assertEquals(Priority.HIGH, pg(longStatement).priority());
  }

  @Test
  void directivesFromOtherProtocols() {
    assertEquals(Priority.LOW, HintParser.fromDirective("mproxy: priority=low", true).priority());
    assertSame(QueryHints.NONE, HintParser.fromDirective("find users", true));
    QueryHints h = HintParser.fromDirective("priority=high timeout_ms=300", false);
    assertEquals(Priority.HIGH, h.priority());
    assertEquals(300, h.timeoutMs());
    assertEquals("q", HintParser.fromDirective("mproxy: group='q'", true).group());
  }

  @Test
  void laterHintsOverrideEarlierOnes() {
    QueryHints conn = HintParser.fromDirective("priority=low timeout_ms=300", false);
    QueryHints merged = conn.overriddenBy(HintParser.fromDirective("priority=high", false));
    assertEquals(Priority.HIGH, merged.priority());
    assertEquals(300, merged.timeoutMs());
    assertSame(conn, conn.overriddenBy(QueryHints.NONE));
  }
}

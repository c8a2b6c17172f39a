package io.mproxy.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlScannerTest {

  /** "TYPE:text" for every token, comments included. */
  static List<String> tokens(SqlDialect dialect, String sql) {
    SqlScanner s = new SqlScanner(dialect, sql);
    List<String> out = new ArrayList<>();
    while (s.next()) {
      out.add(s.type() + ":" + s.text() + (s.isHint() ? ":hint" : ""));
    }
    return out;
  }

  @Test
  void postgresBasics() {
    assertEquals(List.of("WORD:SELECT", "WORD:a", "PUNCTUATION:,", "QUOTED_IDENTIFIER:\"B\"\"c\"",
        "WORD:FROM", "WORD:t", "WORD:WHERE", "WORD:x", "OPERATOR:=", "PARAMETER:$1", "WORD:AND",
        "WORD:y", "OPERATOR:::", "WORD:int", "OPERATOR:>=", "NUMBER:1.5e-3"),
        tokens(SqlDialect.POSTGRES, "SELECT a, \"B\"\"c\" FROM t WHERE x = $1 AND y::int>=1.5e-3"));
  }

  @Test
  void postgresStrings() {
    assertEquals(List.of("STRING:'it''s'", "STRING:E'a\\'b'", "STRING:$$x ' y$$",
        "STRING:$fn$ $$ not end $fn$", "STRING:B'0101'", "STRING:U&'d\\0061t'", "STRING:'back\\'"),
        tokens(SqlDialect.POSTGRES,
            "'it''s' E'a\\'b' $$x ' y$$ $fn$ $$ not end $fn$ B'0101' U&'d\\0061t' 'back\\'"));
  }

  @Test
  void postgresCommentsNestAndHintsAreMarked() {
    assertEquals(List.of("WORD:SELECT", "COMMENT:/* a /* b */ c */", "NUMBER:1",
        "COMMENT:-- tail", "COMMENT:/*+ IndexScan(t) */:hint", "COMMENT:/* mproxy: priority=low */:hint"),
        tokens(SqlDialect.POSTGRES,
            "SELECT /* a /* b */ c */ 1 -- tail\n/*+ IndexScan(t) */ /* mproxy: priority=low */"));
  }

  @Test
  void postgresOperatorsSplitTrailingSigns() {
    assertEquals(List.of("WORD:x", "OPERATOR:=", "OPERATOR:-", "NUMBER:1", "WORD:j", "OPERATOR:->>",
        "STRING:'k'", "WORD:a", "OPERATOR:?", "STRING:'b'", "WORD:a", "OPERATOR:@>", "WORD:b"),
        tokens(SqlDialect.POSTGRES, "x=-1 j->>'k' a ? 'b' a@>b"));
  }

  @Test
  void mysqlBasics() {
    assertEquals(List.of("WORD:SELECT", "QUOTED_IDENTIFIER:`a``b`", "PUNCTUATION:,", "STRING:\"s\\\"q\"",
        "PUNCTUATION:,", "STRING:'x\\'y'", "WORD:FROM", "WORD:t", "WORD:WHERE", "WORD:id", "OPERATOR:=",
        "PARAMETER:?", "WORD:AND", "VARIABLE:@v", "OPERATOR::=", "VARIABLE:@@session", "PUNCTUATION:.",
        "WORD:x", "NUMBER:0x1F"),
        tokens(SqlDialect.MYSQL,
            "SELECT `a``b`, \"s\\\"q\", 'x\\'y' FROM t WHERE id = ? AND @v := @@session.x 0x1F"));
  }

  @Test
  void mysqlComments() {
    assertEquals(List.of("WORD:a", "OPERATOR:-", "OPERATOR:-", "NUMBER:1", "COMMENT:-- c",
        "COMMENT:# h", "WORD:b"),
        tokens(SqlDialect.MYSQL, "a--1 -- c\n# h\nb"));
    assertEquals(List.of("NUMBER:1", "COMMENT:/* x /* y */", "WORD:z", "OPERATOR:*/"),
        tokens(SqlDialect.MYSQL, "1 /* x /* y */ z */"));
  }

  @Test
  void mysqlExecutableCommentsAreCode() {
    assertEquals(List.of("COMMENT:/*!40101", "WORD:SET", "WORD:NAMES", "WORD:utf8", "WORD:SELECT",
        "COMMENT:/*+ BKA(t) */:hint", "NUMBER:1"),
        tokens(SqlDialect.MYSQL, "/*!40101 SET NAMES utf8*/ SELECT /*+ BKA(t) */ 1"));
  }

  @Test
  void unterminatedTokensEndAtTheEnd() {
    assertEquals(List.of("WORD:SELECT", "STRING:'abc"), tokens(SqlDialect.POSTGRES, "SELECT 'abc"));
    assertEquals(List.of("STRING:$q$abc"), tokens(SqlDialect.POSTGRES, "$q$abc"));
    assertEquals(List.of("COMMENT:/* /* */"), tokens(SqlDialect.POSTGRES, "/* /* */"));
    assertEquals(List.of("QUOTED_IDENTIFIER:`abc"), tokens(SqlDialect.MYSQL, "`abc"));
    assertEquals(List.of("STRING:'ab\\"), tokens(SqlDialect.MYSQL, "'ab\\"));
    assertEquals(List.of("COMMENT:/*!"), tokens(SqlDialect.MYSQL, "/*!"));
  }

  @Test
  void markAndResetReplay() {
    SqlScanner s = new SqlScanner(SqlDialect.MYSQL, "/*!1 a */ b c");
    assertTrue(s.next());
    assertTrue(s.next());
    long mark = s.mark();
    assertTrue(s.next());
    assertEquals("b", s.text());
    s.reset(mark);
    assertTrue(s.next());
    assertEquals("b", s.text());
    assertTrue(s.next());
    assertEquals("c", s.text());
    assertFalse(s.next());
  }

  @Test
  void wordComparisonIgnoresCase() {
    SqlScanner s = new SqlScanner(SqlDialect.POSTGRES, "sElEcT");
    assertTrue(s.next());
    assertTrue(s.isWord("SELECT"));
    assertFalse(s.isWord("SELEC"));
  }
}

package io.mproxy.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SqlFingerprintTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
      "select * from Users where id = 42|SELECT * FROM users WHERE id = ?",
      "SELECT  a,b<NL><TAB>FROM t  WHERE x='y' AND z = $1|SELECT a, b FROM t WHERE x = ? AND z = ?",
      "SELECT * FROM t WHERE id IN (1, 2, 3)|SELECT * FROM t WHERE id IN (?)",
      "SELECT * FROM t WHERE id IN ($1,$2)|SELECT * FROM t WHERE id IN (?)",
      "SELECT * FROM t WHERE id in (-1, +2)|SELECT * FROM t WHERE id IN (?)",
      "SELECT * FROM t WHERE id IN (SELECT id FROM u)|SELECT * FROM t WHERE id IN (SELECT id FROM u)",
      "SELECT * FROM t WHERE id IN (a, 1)|SELECT * FROM t WHERE id IN (a, ?)",
      "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')|INSERT INTO t(a, b) VALUES (?)",
      "INSERT INTO t VALUES (1, now())|INSERT INTO t VALUES (?, now())",
      "SELECT ARRAY[1,2,3]|SELECT ARRAY[?]",
      "SELECT x - 1, -1, (-2.5), a[1]|SELECT x - ?, ?, (?), a[?]",
      "SELECT count(*) FROM t WHERE flag = TRUE AND v IS NULL|SELECT count(*) FROM t WHERE flag = TRUE AND v IS NULL",
      "SELECT 1 /* plain */ -- trailing|SELECT ?",
      "SELECT /*+ SeqScan(t) */ * FROM t|SELECT /*+ SeqScan(t) */ * FROM t",
      "SELECT /* mproxy: priority=low */ 1|SELECT /* mproxy: priority=low */ ?",
      "SELECT $$body ' with quote$$, E'\\'', B'01'|SELECT ?, ?, ?",
      "SELECT \"MixedCase\" FROM s.T|SELECT \"MixedCase\" FROM s.t",
      "SELECT x::int FROM t;|SELECT x :: INT FROM t",
      "BEGIN; UPDATE t SET a = 1; COMMIT;|BEGIN; UPDATE t SET a = ?; COMMIT",
      "SELECT * FROM t WHERE id = ANY($1)|SELECT * FROM t WHERE id = ANY (?)",
  })
  void postgres(String sql, String expected) {
    assertEquals(expected, SqlFingerprint.of(SqlDialect.POSTGRES, unescape(sql)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
      "select * from Users where id = ?|SELECT * FROM Users WHERE id = ?",
      "SELECT * FROM `t` WHERE name = \"bob\" AND x = 'it\\'s'|SELECT * FROM `t` WHERE name = ? AND x = ?",
      "INSERT INTO t VALUES (1,2),(3,4) ON DUPLICATE KEY UPDATE a = VALUES(a)|INSERT INTO t VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES (a)",
      "SELECT 1 # comment|SELECT ?",
      "SELECT 0x1F, X'1F', _utf8mb4'x'|SELECT ?, ?, _utf8mb4 ?",
      "/*!40101 SET NAMES utf8 */|SET NAMES utf8",
      "SELECT /*+ MAX_EXECUTION_TIME(100) */ a FROM t|SELECT /*+ MAX_EXECUTION_TIME(100) */ a FROM t",
      "SELECT @x := 5|SELECT @x := ?",
  })
  void mysql(String sql, String expected) {
    assertEquals(expected, SqlFingerprint.of(SqlDialect.MYSQL, unescape(sql)));
  }

  /** {@code <NL>} and {@code <TAB>} in the tables stand for a newline and a tab. */
  private static String unescape(String sql) {
    return sql.replace("<NL>", "\n").replace("<TAB>", "\t");
  }

  @Test
  void hugeStatementGivesABoundedKey() {
    StringBuilder sql = new StringBuilder("SELECT * FROM t WHERE ");
    for (int i = 0; sql.length() < 10_000_000; i++) {
      sql.append("c").append(i).append(" = ").append(i).append(" AND ");
    }
    String fp = SqlFingerprint.of(SqlDialect.POSTGRES, sql);
    assertEquals(SqlFingerprint.MAX_LENGTH + SqlFingerprint.TRUNCATION_MARKER.length(), fp.length());
    assertTrue(fp.endsWith(SqlFingerprint.TRUNCATION_MARKER));
    assertTrue(fp.startsWith("SELECT * FROM t WHERE c0 = ? AND c1 = ?"));
  }

  @Test
  void hugeInListCollapses() {
    StringBuilder sql = new StringBuilder("SELECT * FROM t WHERE id IN (");
    for (int i = 0; i < 200_000; i++) {
      sql.append(i == 0 ? "" : ", ").append(i);
    }
    sql.append(") AND x = 'y'");
    assertEquals("SELECT * FROM t WHERE id IN (?) AND x = ?", SqlFingerprint.of(SqlDialect.MYSQL, sql));
  }

  @Test
  void differentShapesDiffer() {
    assertNotEquals(SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT a FROM t WHERE id = 1"),
        SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT b FROM t WHERE id = 1"));
    assertNotEquals(SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT 1 /*+ A */"),
        SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT 1 /*+ B */"));
  }

  @Test
  void malformedInputStillFingerprints() {
    assertEquals("SELECT ?", SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT 'unterminated"));
    assertEquals("SELECT * FROM t WHERE id IN (?,", SqlFingerprint.of(SqlDialect.POSTGRES, "SELECT * FROM t WHERE id IN (1,"));
    assertEquals("", SqlFingerprint.of(SqlDialect.MYSQL, "   -- only a comment"));
  }
}

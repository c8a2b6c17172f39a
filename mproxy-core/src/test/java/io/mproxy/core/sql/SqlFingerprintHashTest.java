package io.mproxy.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mproxy.core.fingerprint.ShapeInterner;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The interning fingerprint hashes its output while writing it: that hash must be the output's
 * {@link String#hashCode()}, or the interner's slots would be missed (a new string per query) and
 * not shared with {@link ShapeInterner#intern(CharSequence)}.
 */
class SqlFingerprintHashTest {

  /** Fragments that exercise every way the builder writes: keywords, identifiers, sources, trims, truncation. */
  private static final String[] FRAGMENTS = {
      "SELECT", "select", "abalance", "FROM", "pgbench_accounts", "WHERE", "aid", "=", "42", ";", " ;",
      "'it''s'", "\"Quoted\"", "`bq`", "IN (1, 2, 3)", "VALUES (1, 'a'), (2, 'b')", "ARRAY[1,2]",
      "-1", "+ 2", "$1", "?", "@var", "@@session.x", "/*+ SeqScan(t) */", "/* c */", "-- tail\n",
      "#h\n", "/*!50000 SELECT */", "(", ")", ",", ".", "x.y", "count(*)", "<>", "::int", "NULL",
      "CURRENT_TIMESTAMP", "SQL_CALC_FOUND_ROWS", "\u00e9t\u00e9", "\ud83d\ude00", "\"a;", "/*+ x;",
      "\"semi; ", "e'\\n'", "$$dollar$$", "0x1F", "1e5", "   ", "\n", ";;",
  };

  @Test
  void theHashWrittenAlongIsTheOutputsStringHash() {
    Random random = new Random(13);
    ShapeInterner shapes = new ShapeInterner(1024);
    for (int round = 0; round < 30_000; round++) {
      String sql = randomText(random, round % 500 == 0 ? 900 : 12);
      for (SqlDialect dialect : SqlDialect.values()) {
        String plain = SqlFingerprint.of(dialect, sql);
        String interned = SqlFingerprint.of(dialect, sql, shapes);
        assertEquals(plain, interned, sql);
        if (!interned.endsWith(SqlFingerprint.TRUNCATION_MARKER)) {
          // found in the slot of its true hash, with that hash: the same instance
          assertSame(interned, shapes.intern(new StringBuilder(interned)), sql);
        }
      }
    }
  }

  private static String randomText(Random random, int maxParts) {
    StringBuilder sql = new StringBuilder();
    int parts = 1 + random.nextInt(maxParts);
    for (int i = 0; i < parts; i++) {
      sql.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
      if (random.nextInt(3) > 0) {
        sql.append(' ');
      }
    }
    return sql.toString();
  }
}

package io.mproxy.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.RequestKind;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlShapesTest {

  private static final List<String> TEXTS = List.of(
      "SELECT abalance FROM pgbench_accounts WHERE aid = 42",
      "select abalance from pgbench_accounts where aid = 7;",
      "UPDATE pgbench_accounts SET abalance = abalance + -3 WHERE aid = 9",
      "BEGIN", "COMMIT", "ROLLBACK TO SAVEPOINT a", "SET search_path = 'x'",
      "SELECT set_config('application_name', 'y', false)",
      "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d",
      "SELECT 1; UPDATE t SET a = 2", "/* mproxy: priority=low */ SELECT 'a;b'",
      "LISTEN chan", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "CREATE TEMP TABLE x (a int)",
      "SELECT * FROM t WHERE a IN (1, 2, 3) AND b = $1",
      "SELECT '" + "x".repeat(3000) + "'; SET work_mem = '1GB'");

  @Test
  void shapesAreWhatTheClassifierAndFingerprintSay() {
    SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 100);
    for (int round = 0; round < 2; round++) {
      for (String sql : TEXTS) {
        SqlClassification c = SqlClassifier.classify(SqlDialect.POSTGRES, sql);
        String f = SqlFingerprint.of(SqlDialect.POSTGRES, sql);
        assertEquals(new SqlShapes.Shape(c, f), shapes.ofQuery(sql), sql);
        assertEquals(new SqlShapes.Shape(c, f), shapes.ofStatement(sql), sql);
      }
    }
  }

  @Test
  void queriesDifferingInLiteralsShareOneClassification() {
    SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 100);
    SqlClassification first = shapes.ofQuery("SELECT abalance FROM pgbench_accounts WHERE aid = 1").classification();
    for (int aid = 2; aid < 50; aid++) {
      SqlShapes.Shape s = shapes.ofQuery("SELECT abalance FROM pgbench_accounts WHERE aid = " + aid);
      assertSame(first, s.classification(), "looked up by fingerprint, not classified again");
      assertEquals(RequestKind.READ, s.classification().kind());
    }
    assertEquals(1, shapes.size());
  }

  @Test
  void queriesDifferingInLiteralsShareOneShapeObject() {
    // the simple-query path runs per request: a repeated shape must cost no new Shape or string
    SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 100);
    SqlShapes.Shape first = shapes.ofQuery("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
    SqlShapes.Shape second = shapes.ofQuery("SELECT abalance FROM pgbench_accounts WHERE aid = 2");
    assertSame(first, second);
    assertSame(first.fingerprint(), second.fingerprint());
  }

  @Test
  void aStatementIsScannedOnceAndTheMapsStayBounded() {
    SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 8);
    SqlShapes.Shape once = shapes.ofStatement("SELECT * FROM t WHERE id = $1");
    assertSame(once, shapes.ofStatement("SELECT * FROM t WHERE id = $1"));
    for (int i = 0; i < 100; i++) {
      shapes.ofStatement("SELECT c" + i + " FROM t WHERE id = $1");
      shapes.ofQuery("SELECT c" + i + " FROM t WHERE id = 5");
      assertTrue(shapes.size() <= 16, "bounded: " + shapes.size());
    }
  }

  @Test
  void aTruncatedFingerprintIsNotTrustedForTheClassification() {
    SqlShapes shapes = new SqlShapes(SqlDialect.POSTGRES, 100);
    String head = "SELECT " + "a_rather_long_column_name, ".repeat(60) + "z FROM t";
    SqlShapes.Shape read = shapes.ofQuery(head + "; SELECT 1");
    SqlShapes.Shape write = shapes.ofQuery(head + "; DELETE FROM t");
    assertEquals(read.fingerprint(), write.fingerprint(), "both cut at the same length");
    assertEquals(RequestKind.READ, read.classification().kind());
    assertEquals(RequestKind.WRITE, write.classification().kind());
  }

  @Test
  void theReusedFingerprintBuilderGivesWhatAFreshOneGives() {
    // ofQuery fingerprints with one builder per thread: nothing may leak from one text to the next
    SqlShapes pg = new SqlShapes(SqlDialect.POSTGRES, 100);
    SqlShapes my = new SqlShapes(SqlDialect.MYSQL, 100);
    String[] texts = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = 42;",
        "select \"Quoted\" from T where x in (1, 2, 3) -- tail",
        "/*+ SeqScan(t) */ SELECT -1, 'it''s' FROM t",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "UPDATE t SET a = ARRAY[1,2] WHERE b = $1",
        "",
        "SELECT `x` FROM T WHERE y = 'a' /* c */",
    };
    List<String> all = new java.util.ArrayList<>(List.of(texts));
    all.addAll(TEXTS);
    for (int round = 0; round < 3; round++) {
      for (String t : all) {
        assertEquals(SqlFingerprint.of(SqlDialect.POSTGRES, t), pg.ofQuery(t).fingerprint(), t);
        assertEquals(SqlFingerprint.of(SqlDialect.MYSQL, t), my.ofQuery(t).fingerprint(), t);
        // a CharSequence that is not a String (a view of a network buffer) is read the same way
        assertEquals(SqlFingerprint.of(SqlDialect.POSTGRES, t), pg.ofQuery(new StringBuilder(t)).fingerprint(), t);
      }
    }
  }
}

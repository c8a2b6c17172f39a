package io.mproxy.protocol.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.RequestKind;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlFingerprint;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StatementInspectorTest {

  private static StatementInspector.Info of(String sql) {
    return StatementInspector.inspect(sql);
  }

  @Test
  void kindsOfStatements() {
    assertEquals(RequestKind.READ, of("  /* hi */ SELECT 1").kind());
    assertEquals(RequestKind.WRITE, of("insert into t values (1)").kind());
    assertEquals(RequestKind.TRANSACTION_CONTROL, of("START TRANSACTION").kind());
    assertEquals(RequestKind.TRANSACTION_CONTROL, of("commit").kind());
    assertEquals(RequestKind.SESSION, of("SET NAMES utf8mb4").kind());
    assertEquals(RequestKind.WRITE, of("WITH x AS (SELECT 1) UPDATE t SET a = 1").kind());
    assertEquals(RequestKind.READ, of("WITH x AS (SELECT 1) SELECT * FROM x").kind());
  }

  @Test
  void fingerprintsNormalizeLiteralsListsAndSpacing() {
    String a = of("SELECT  *  FROM t WHERE id = 42 AND name = 'bob' AND x IN (1, 2, 3)").fingerprint();
    String b = of("select * from t where id=7 and name=\"al\" and x in (9)").fingerprint();
    assertEquals(a, b);
    assertTrue(a.contains("?") && !a.contains("42") && !a.contains("bob"), a);
    assertEquals(of("INSERT INTO t (a, b) VALUES (1, 'x')").fingerprint(),
        of("insert into t (a, b) values (2, 'yy')").fingerprint());
    assertEquals(of("SELECT 1").fingerprint(), of("SELECT 2 -- tail comment\n").fingerprint());
  }

  @Test
  void replayableSetsBecomeAssignments() {
    SessionEffect e = of("SET NAMES utf8mb4, autocommit = 1, @@session.sql_mode = 'STRICT_ALL_TABLES'").effect();
    assertNull(e.pinReason());
    assertEquals(List.of(
        new SessionEffect.Assignment("names", "SET NAMES utf8mb4"),
        new SessionEffect.Assignment("autocommit", "SET SESSION autocommit = 1"),
        new SessionEffect.Assignment("sql_mode", "SET SESSION sql_mode = 'STRICT_ALL_TABLES'")), e.assignments());
    assertEquals(List.of(new SessionEffect.Assignment("time_zone", "SET SESSION time_zone = '+01:00'")),
        of("set session time_zone='+01:00'").effect().assignments());
    assertEquals(List.of(), of("SET GLOBAL max_connections = 10").effect().assignments());
    assertNull(of("SET GLOBAL max_connections = 10").effect().pinReason());
  }

  @Test
  void stateTheProxyCannotMoveAroundPinsTheSession() {
    for (String sql : List.of("SET @x = 1", "SELECT @x", "SELECT a INTO @v FROM t", "SELECT GET_LOCK('a', 1)",
        "CREATE TEMPORARY TABLE tmp (a INT)", "LOCK TABLES t WRITE", "PREPARE s FROM 'SELECT 1'",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET autocommit = @saved", "XA START 'x'",
        "SELECT 1; SET autocommit = 0")) {
      assertNotNull(of(sql).effect().pinReason(), sql);
    }
    assertNull(of("SELECT '@not_a_variable', 'GET_LOCK('").effect().pinReason());
  }

  @Test
  void useAndKill() {
    assertEquals("shop", of("USE `shop`").effect().schema());
    assertEquals(42, of("KILL QUERY 42").effect().killId());
    assertTrue(of("KILL QUERY 42").effect().killQuery());
    assertEquals(7, of("kill 7;").effect().killId());
    assertEquals(-1, of("KILL USER bob").effect().killId());
  }

  @Test
  void countsStatements() {
    assertEquals(1, of("SELECT 1;").statements());
    assertEquals(2, of("SELECT 1; SELECT ';'").statements());
  }

  @Test
  void textsOfOneShapeShareWhatWasLearnedFromTheFirst() {
    StatementInspector.Info first = of("SELECT c FROM sbtest1 WHERE id = 4711");
    assertSame(first, of("SELECT c FROM sbtest1 WHERE id = 815"));
    assertSame(first, of("select c from sbtest1 where id=-3 -- other comment"));
    // an effect with a value is read from every text
    assertEquals(5, of("KILL 5").effect().killId());
    assertEquals(6, of("KILL 6").effect().killId());
    assertEquals("a", of("USE a").effect().schema());
    assertEquals("b", of("USE b").effect().schema());
    assertEquals("SET SESSION sql_mode = 'A'", of("SET sql_mode = 'A'").effect().assignments().get(0).sql());
    assertEquals("SET SESSION sql_mode = 'B'", of("SET sql_mode = 'B'").effect().assignments().get(0).sql());
  }

  @Test
  void aTruncatedFingerprintIsNotTrustedForWhatFollowsTheCut() {
    StringBuilder columns = new StringBuilder("SELECT c0");
    for (int i = 1; i < 400; i++) {
      columns.append(", c").append(i);
    }
    StatementInspector.Info plain = of(columns + " FROM t WHERE a = 1");
    assertTrue(plain.fingerprint().endsWith(SqlFingerprint.TRUNCATION_MARKER), plain.fingerprint());
    assertNull(plain.effect().pinReason());
    StatementInspector.Info variable = of(columns + " FROM t WHERE a = @v");
    assertEquals(plain.fingerprint(), variable.fingerprint());
    assertNotNull(variable.effect().pinReason());
  }

  /** Pieces of MySQL statements, joined at random: the remembered answer must be what reading the text gives. */
  private static final String[] PIECES = {
      "SELECT", "select", "c", "FROM", "sbtest1", "WHERE", "id", "=", "42", "7", "'x'", "\"y\"", ";", ",",
      "(", ")", "IN (1, 2)", "SET", "set", "USE", "KILL", "QUERY", "@x", "@@session.sql_mode", "@@global.x",
      "GET_LOCK", "CREATE", "TEMPORARY", "TABLE", "LOCK", "TABLES", "WRITE", "PREPARE", "EXECUTE", "XA",
      "START", "TRANSACTION", "COMMIT", "NAMES", "utf8mb4", "autocommit", "SESSION", "GLOBAL", ":=",
      "/*+ hint */", "/* c */", "-- c\n", "/*!50000 SET */", "INSERT", "INTO", "VALUES (1, 'a')", "UPDATE",
      "DELETE", "SQL_CALC_FOUND_ROWS", "FOR UPDATE", "HANDLER", "DEALLOCATE", "`q`", "-1", "1.5", "NULL",
  };

  @Test
  void whatIsRememberedPerShapeIsWhatEveryTextOfItGives() {
    Random random = new Random(13);
    for (int round = 0; round < 40_000; round++) {
      StringBuilder sql = new StringBuilder();
      int parts = 1 + random.nextInt(8);
      for (int i = 0; i < parts; i++) {
        sql.append(PIECES[random.nextInt(PIECES.length)]).append(random.nextInt(4) == 0 ? "" : " ");
      }
      String text = sql.toString();
      StatementInspector.Info read = StatementInspector.read(text, SqlFingerprint.of(SqlDialect.MYSQL, text), false);
      assertEquals(read, of(text), text);
    }
  }
}

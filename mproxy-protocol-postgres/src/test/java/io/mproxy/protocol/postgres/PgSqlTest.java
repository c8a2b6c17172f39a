package io.mproxy.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mproxy.core.request.RequestKind;
import org.junit.jupiter.api.Test;

class PgSqlTest {

  @Test
  void kinds() {
    assertEquals(RequestKind.READ, PgSql.kind("  /* c */ select 1"));
    assertEquals(RequestKind.READ, PgSql.kind("(SELECT a FROM t)"));
    assertEquals(RequestKind.WRITE, PgSql.kind("SELECT * FROM t FOR UPDATE"));
    assertEquals(RequestKind.WRITE, PgSql.kind("update t set a=1"));
    assertEquals(RequestKind.WRITE, PgSql.kind("COPY t FROM STDIN"));
    assertEquals(RequestKind.TRANSACTION_CONTROL, PgSql.kind("BEGIN"));
    assertEquals(RequestKind.TRANSACTION_CONTROL, PgSql.kind("commit"));
    assertEquals(RequestKind.SESSION, PgSql.kind("SET search_path TO x"));
    assertEquals(RequestKind.READ, PgSql.kind(""), "an empty query reads nothing");
  }

  @Test
  void pinReasons() {
    assertEquals("LISTEN", PgSql.pinReason("listen chan"));
    assertEquals("SET of a session setting", PgSql.pinReason("SET search_path TO x"));
    assertEquals("SET of a session setting", PgSql.pinReason("set session work_mem = '1GB'"));
    assertNull(PgSql.pinReason("SET application_name = 'x'"), "reported settings are replayed");
    assertNull(PgSql.pinReason("SET LOCAL work_mem = '1GB'"));
    assertNull(PgSql.pinReason("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
    assertEquals("temporary table", PgSql.pinReason("CREATE TEMP TABLE x(a int)"));
    assertEquals("DECLARE ... WITH HOLD", PgSql.pinReason("DECLARE c CURSOR WITH HOLD FOR SELECT 1"));
    assertEquals("session advisory lock", PgSql.pinReason("SELECT pg_advisory_lock(1)"));
    assertNull(PgSql.pinReason("SELECT pg_advisory_xact_lock(1)"));
    assertNull(PgSql.pinReason("SELECT 1"));
  }

  @Test
  void fingerprintsHideLiterals() {
    assertEquals(PgSql.fingerprint("SELECT * FROM t WHERE a = 1 AND b = 'x'"),
        PgSql.fingerprint("SELECT  *  FROM t WHERE a = 42 AND b = 'it''s'"));
    assertEquals("SELECT * FROM t2 WHERE a = ?", PgSql.fingerprint("SELECT * FROM t2 WHERE a = $1"));
    assertNotEquals(PgSql.fingerprint("SELECT a FROM t"), PgSql.fingerprint("SELECT b FROM t"));
  }

  @Test
  void deallocateAll() {
    assertEquals(true, PgSql.isDeallocateAll("DEALLOCATE ALL"));
    assertEquals(true, PgSql.isDeallocateAll("deallocate prepare all;"));
    assertEquals(false, PgSql.isDeallocateAll("DEALLOCATE s1"));
  }
}

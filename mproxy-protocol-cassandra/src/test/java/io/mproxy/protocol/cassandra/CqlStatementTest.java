package io.mproxy.protocol.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mproxy.core.request.RequestKind;
import org.junit.jupiter.api.Test;

class CqlStatementTest {

  @Test
  void kinds() {
    assertEquals(RequestKind.READ, CqlStatement.of("SELECT * FROM ks.t WHERE k = 1").kind());
    assertEquals(RequestKind.WRITE, CqlStatement.of("insert into t (k) values (1)").kind());
    assertEquals(RequestKind.WRITE, CqlStatement.of("/* c */ UPDATE t SET v = 1 WHERE k = 2").kind());
    assertEquals(RequestKind.WRITE, CqlStatement.of("-- x\nDELETE FROM t WHERE k = 2").kind());
    CqlStatement batch = CqlStatement.of("BEGIN BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH");
    assertEquals(RequestKind.WRITE, batch.kind());
    assertEquals("BATCH", batch.verb());
    assertEquals(RequestKind.ADMIN, CqlStatement.of("CREATE TABLE t (k int PRIMARY KEY)").kind());
    assertEquals(RequestKind.ADMIN, CqlStatement.of("drop keyspace ks").kind());
    assertEquals(RequestKind.ADMIN, CqlStatement.of("TRUNCATE t").kind());
    assertEquals(RequestKind.SESSION, CqlStatement.of("USE ks").kind());
  }

  @Test
  void useKeyspaceFollowsCqlIdentifierRules() {
    assertEquals("myks", CqlStatement.of("USE MyKs").useKeyspace());
    assertEquals("MyKs", CqlStatement.of("use \"MyKs\";").useKeyspace());
    assertNull(CqlStatement.of("SELECT 1 FROM t").useKeyspace());
  }

  @Test
  void fingerprintsReplaceLiterals() {
    String a = CqlStatement.fingerprint("SELECT * FROM t WHERE id = 123e4567-e89b-12d3-a456-426614174000 AND b = 0xCAFE"
        + " AND s = 'it''s' AND n = 42 AND f = true");
    String b = CqlStatement.fingerprint("select *   from t where id = 00000000-0000-0000-0000-000000000000 and b = 0x01"
        + " and s = 'x' and n = 7 and f = FALSE");
    assertEquals(a, b);
    assertEquals(CqlStatement.fingerprint("INSERT INTO t (k, v) VALUES (2, 'b')"),
        CqlStatement.fingerprint("INSERT INTO t (k, v) VALUES (1, 'a')"));
    assertEquals("INSERT INTO t(k, v) VALUES (?, ?)", CqlStatement.fingerprint("insert into t (k, v) values (?, ?)"));
  }

  @Test
  void topologyTables() {
    assertEquals(CqlStatement.Topology.LOCAL, CqlStatement.of("SELECT * FROM system.local WHERE key='local'").topology());
    assertEquals(CqlStatement.Topology.LOCAL, CqlStatement.of("select rpc_address from system.local").topology());
    assertEquals(CqlStatement.Topology.PEERS, CqlStatement.of("SELECT * FROM system.peers_v2").topology());
    assertEquals(CqlStatement.Topology.PEERS, CqlStatement.of("SELECT * FROM system.peers WHERE peer = ?").topology());
    assertEquals(CqlStatement.Topology.NONE, CqlStatement.of("SELECT * FROM system.local_things").topology());
    assertEquals(CqlStatement.Topology.NONE, CqlStatement.of("SELECT * FROM system_schema.tables").topology());
  }

  @Test
  void plainTokens() {
    String[] c = CqlSession.plain("\0app\0secret".getBytes());
    assertEquals("app", c[0]);
    assertEquals("secret", c[1]);
    String[] z = CqlSession.plain("authz\0app\0pw".getBytes());
    assertEquals("app", z[0]);
    assertNull(CqlSession.plain("no-nul".getBytes()));
    assertNull(CqlSession.plain(null));
  }
}

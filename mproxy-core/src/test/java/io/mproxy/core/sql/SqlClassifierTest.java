package io.mproxy.core.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.request.RequestKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Example tables. Columns: SQL | verb | kind | flags | statements, where flags has S for
 * transaction start, E for transaction end, P for session state (pin), or '-'. {@code <NL>} in the
 * SQL stands for a newline.
 */
class SqlClassifierTest {

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
      "SELECT 1|SELECT|READ|-|1",
      "  /* c */ -- x<NL> select * from t|SELECT|READ|-|1",
      "((SELECT 1) UNION (SELECT 2))|SELECT|READ|-|1",
      "VALUES (1), (2)|VALUES|READ|-|1",
      "TABLE t|TABLE|READ|-|1",
      "SHOW search_path|SHOW|READ|-|1",
      "FETCH 10 FROM c|FETCH|READ|-|1",
      "EXPLAIN SELECT 1|EXPLAIN|READ|-|1",
      "EXPLAIN DELETE FROM t|EXPLAIN|READ|-|1",
      "EXPLAIN ANALYZE SELECT 1|EXPLAIN|READ|-|1",
      "EXPLAIN ANALYZE DELETE FROM t|EXPLAIN|WRITE|-|1",
      "EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1|EXPLAIN|WRITE|-|1",
      "EXPLAIN (ANALYZE false) UPDATE t SET a = 1|EXPLAIN|READ|-|1",
      "EXPLAIN ANALYZE WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d|EXPLAIN|WRITE|-|1",
      "WITH x AS (SELECT 1) SELECT * FROM x|SELECT|READ|-|1",
      "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT * FROM r|SELECT|READ|-|1",
      "WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d|SELECT|WRITE|-|1",
      "WITH x AS MATERIALIZED (SELECT 1), y AS (SELECT 2) UPDATE t SET a = 1|UPDATE|WRITE|-|1",
      "INSERT INTO t VALUES (1)|INSERT|WRITE|-|1",
      "update t set a = 'SELECT'|UPDATE|WRITE|-|1",
      "DELETE FROM t|DELETE|WRITE|-|1",
      "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DO NOTHING|MERGE|WRITE|-|1",
      "COPY t FROM STDIN|COPY|WRITE|-|1",
      "CREATE TABLE t (id int)|CREATE|WRITE|-|1",
      "CREATE TEMP TABLE t (id int)|CREATE|WRITE|P|1",
      "CREATE GLOBAL TEMPORARY TABLE t (id int)|CREATE|WRITE|P|1",
      "DROP TABLE t|DROP|WRITE|-|1",
      "CALL p(1)|CALL|WRITE|-|1",
      "DO $$BEGIN PERFORM 1; END$$|DO|WRITE|-|1",
      "LOCK TABLE t IN SHARE MODE|LOCK|WRITE|-|1",
      "VACUUM t|VACUUM|WRITE|-|1",
      "ANALYZE t|ANALYZE|WRITE|-|1",
      "GRANT SELECT ON t TO u|GRANT|WRITE|-|1",
      "SELECT * FROM t FOR UPDATE|SELECT|WRITE|-|1",
      "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED|SELECT|WRITE|-|1",
      "SELECT * FROM t FOR SHARE|SELECT|WRITE|-|1",
      "SELECT * INTO new_t FROM t|SELECT|WRITE|-|1",
      "SELECT * INTO TEMP new_t FROM t|SELECT|WRITE|P|1",
      "SELECT nextval('s')|SELECT|WRITE|-|1",
      "SELECT pg_advisory_lock(1)|SELECT|WRITE|P|1",
      "SELECT pg_advisory_xact_lock(1)|SELECT|WRITE|-|1",
      "SELECT set_config('a.b', 'c', false)|SELECT|WRITE|P|1",
      "SELECT nextval FROM t|SELECT|READ|-|1",
      "BEGIN|BEGIN|TRANSACTION_CONTROL|S|1",
      "BEGIN ISOLATION LEVEL SERIALIZABLE|BEGIN|TRANSACTION_CONTROL|S|1",
      "START TRANSACTION READ ONLY|START|TRANSACTION_CONTROL|S|1",
      "COMMIT|COMMIT|TRANSACTION_CONTROL|E|1",
      "END|END|TRANSACTION_CONTROL|E|1",
      "ABORT|ABORT|TRANSACTION_CONTROL|E|1",
      "ROLLBACK|ROLLBACK|TRANSACTION_CONTROL|E|1",
      "COMMIT AND CHAIN|COMMIT|TRANSACTION_CONTROL|SE|1",
      "COMMIT AND NO CHAIN|COMMIT|TRANSACTION_CONTROL|E|1",
      "ROLLBACK TO SAVEPOINT a|ROLLBACK|TRANSACTION_CONTROL|-|1",
      "ROLLBACK WORK TO a|ROLLBACK|TRANSACTION_CONTROL|-|1",
      "SAVEPOINT a|SAVEPOINT|TRANSACTION_CONTROL|-|1",
      "RELEASE SAVEPOINT a|RELEASE|TRANSACTION_CONTROL|-|1",
      "PREPARE TRANSACTION 'x'|PREPARE|TRANSACTION_CONTROL|E|1",
      "COMMIT PREPARED 'x'|COMMIT|TRANSACTION_CONTROL|-|1",
      "SET search_path = a|SET|SESSION|P|1",
      "SET SESSION statement_timeout = 5|SET|SESSION|P|1",
      "SET LOCAL statement_timeout = 5|SET|SESSION|-|1",
      "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE|SET|SESSION|-|1",
      "RESET ALL|RESET|SESSION|P|1",
      "DISCARD ALL|DISCARD|SESSION|-|1",
      "LISTEN ch|LISTEN|SESSION|P|1",
      "UNLISTEN *|UNLISTEN|SESSION|-|1",
      "NOTIFY ch|NOTIFY|WRITE|-|1",
      "PREPARE q AS SELECT 1|PREPARE|SESSION|P|1",
      "DEALLOCATE q|DEALLOCATE|SESSION|P|1",
      "EXECUTE q|EXECUTE|WRITE|-|1",
      "DECLARE c CURSOR FOR SELECT 1|DECLARE|READ|-|1",
      "DECLARE c CURSOR WITH HOLD FOR SELECT 1|DECLARE|READ|P|1",
      "LOAD 'auto_explain'|LOAD|SESSION|P|1",
      "BEGIN; UPDATE t SET a = 1; COMMIT;|BEGIN|WRITE|SE|3",
      "SELECT 1; SELECT 2|SELECT|READ|-|2",
      "SET a = 1; SELECT 1|SET|SESSION|P|2",
      "SELECT ';'; SELECT $$;$$ ; -- ;<NL>|SELECT|READ|-|2",
      ";;  ;|^^|READ|-|0",
      "^^|^^|READ|-|0",
      "/* only */|^^|READ|-|0",
      "frobnicate all the things|FROBNICATE|WRITE|-|1",
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 2|CREATE|WRITE|-|2",
  })
  void postgres(String sql, String verb, RequestKind kind, String flags, int statements) {
    check(SqlDialect.POSTGRES, sql, verb, kind, flags, statements);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
      "SELECT 1|SELECT|READ|-|1",
      "# comment<NL>SELECT * FROM `select`|SELECT|READ|-|1",
      "SELECT \"FOR UPDATE\" FROM t|SELECT|READ|-|1",
      "SELECT * FROM t LOCK IN SHARE MODE|SELECT|WRITE|-|1",
      "SELECT * FROM t FOR UPDATE|SELECT|WRITE|-|1",
      "SELECT a INTO @x FROM t|SELECT|READ|P|1",
      "SELECT a INTO OUTFILE '/tmp/x' FROM t|SELECT|WRITE|-|1",
      "SELECT @x := 1|SELECT|READ|P|1",
      "SELECT GET_LOCK('a', 1)|SELECT|WRITE|P|1",
      "SELECT RELEASE_LOCK('a')|SELECT|WRITE|-|1",
      "SHOW TABLES|SHOW|READ|-|1",
      "DESCRIBE t|DESCRIBE|READ|-|1",
      "DESC t|DESC|READ|-|1",
      "EXPLAIN FORMAT=JSON SELECT 1|EXPLAIN|READ|-|1",
      "EXPLAIN ANALYZE UPDATE t SET a = 1|EXPLAIN|WRITE|-|1",
      "ANALYZE SELECT 1|ANALYZE|READ|-|1",
      "ANALYZE TABLE t|ANALYZE|WRITE|-|1",
      "REPLACE INTO t VALUES (1)|REPLACE|WRITE|-|1",
      "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2|INSERT|WRITE|-|1",
      "LOAD DATA INFILE 'x' INTO TABLE t|LOAD|WRITE|-|1",
      "BEGIN|BEGIN|TRANSACTION_CONTROL|S|1",
      "BEGIN WORK|BEGIN|TRANSACTION_CONTROL|S|1",
      "START TRANSACTION WITH CONSISTENT SNAPSHOT|START|TRANSACTION_CONTROL|S|1",
      "START SLAVE|START|WRITE|-|1",
      "COMMIT WORK|COMMIT|TRANSACTION_CONTROL|E|1",
      "ROLLBACK AND CHAIN|ROLLBACK|TRANSACTION_CONTROL|SE|1",
      "ROLLBACK TO SAVEPOINT s|ROLLBACK|TRANSACTION_CONTROL|-|1",
      "XA START 'x'|XA|TRANSACTION_CONTROL|S|1",
      "XA END 'x'|XA|TRANSACTION_CONTROL|-|1",
      "XA COMMIT 'x'|XA|TRANSACTION_CONTROL|E|1",
      "END|END|WRITE|-|1",
      "SET NAMES utf8mb4|SET|SESSION|P|1",
      "SET autocommit = 0|SET|SESSION|P|1",
      "SET @a = 1|SET|SESSION|P|1",
      "SET TRANSACTION ISOLATION LEVEL READ COMMITTED|SET|SESSION|P|1",
      "SET GLOBAL max_connections = 10|SET|SESSION|-|1",
      "SET @@global.max_connections = 10|SET|SESSION|-|1",
      "USE db|USE|SESSION|P|1",
      "PREPARE s FROM 'SELECT ?'|PREPARE|SESSION|P|1",
      "EXECUTE s USING @a|EXECUTE|WRITE|-|1",
      "DEALLOCATE PREPARE s|DEALLOCATE|SESSION|P|1",
      "DROP PREPARE s|DROP|SESSION|P|1",
      "LOCK TABLES t WRITE|LOCK|WRITE|P|1",
      "UNLOCK TABLES|UNLOCK|WRITE|-|1",
      "CREATE TEMPORARY TABLE t (a int)|CREATE|WRITE|P|1",
      "RESET QUERY CACHE|RESET|WRITE|-|1",
      "/*!40101 SET NAMES utf8 */|SET|SESSION|P|1",
      "/*!40101 SET NAMES utf8 */; SELECT 1|SET|SESSION|P|2",
      "DO SLEEP(1)|DO|WRITE|-|1",
      "SELECT 1 -- ; SELECT 2<NL>|SELECT|READ|-|1",
      "SELECT 1 --; SELECT 2|SELECT|READ|-|2",
      "SELECT 'a\\';b'; SELECT 2|SELECT|READ|-|2",
      "WITH c AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM c)|DELETE|WRITE|-|1",
      "CREATE PROCEDURE p() BEGIN DECLARE i INT DEFAULT 0; WHILE i < 3 DO SET i = i + 1; END WHILE; IF i > 2 THEN SELECT 1; ELSE SELECT IF(i > 1, 1, 2); END IF; END; SELECT 2|CREATE|WRITE|-|2",
      "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = CASE WHEN NEW.a IS NULL THEN 0 ELSE NEW.a END; END|CREATE|WRITE|-|1",
  })
  void mysql(String sql, String verb, RequestKind kind, String flags, int statements) {
    check(SqlDialect.MYSQL, sql, verb, kind, flags, statements);
  }

  private static void check(SqlDialect dialect, String sql, String verb, RequestKind kind,
      String flags, int statements) {
    SqlClassification c = SqlClassifier.classify(dialect, sql.replace("<NL>", "\n"));
    String actualFlags = (c.isTransactionStart() ? "S" : "") + (c.isTransactionEnd() ? "E" : "")
        + (c.setsSessionState() ? "P" : "");
    assertEquals(verb + "|" + kind + "|" + flags + "|" + statements,
        c.verb() + "|" + c.kind() + "|" + (actualFlags.isEmpty() ? "-" : actualFlags) + "|"
            + c.statementCount());
  }
}

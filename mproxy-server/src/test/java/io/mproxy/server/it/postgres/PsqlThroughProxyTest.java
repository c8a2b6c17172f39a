package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code psql} CLI through the proxy (libpq: SSLRequest first with the default
 * {@code sslmode=prefer}, SCRAM, simple query protocol), including {@code \copy}, which runs
 * COPY FROM STDIN / TO STDOUT with the file on the client side.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PsqlThroughProxyTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app; CREATE TABLE from_file (id int, word text); CREATE TABLE source (id int, word text);"
        + " INSERT INTO source SELECT i, 'word' || i FROM generate_series(1, 500) i;");
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void aQueryRunsAndPrintsItsResult() {
    ExternalCommand.Result r = psql("-c", "SELECT 40 + 2, current_user, current_database()");

    assertTrue(r.succeeded(), r.describe());
    assertEquals("42|app|app", r.stdout().strip());
  }

  @Test
  void severalStatementsInOneScriptRunInOrder() {
    ExternalCommand.Result r = psql("-q", "-c", "CREATE TEMP TABLE t (v int)",
        "-c", "BEGIN; INSERT INTO source VALUES (1000, 'in-tx'); SELECT word FROM source WHERE id = 1000; ROLLBACK;",
        "-c", "SELECT count(*) FROM source WHERE id = 1000");

    assertTrue(r.succeeded(), r.describe());
    assertEquals("in-tx\n0", r.stdout().strip());
  }

  @Test
  void anSqlErrorIsPrintedWithItsMessageAndExitCode() {
    ExternalCommand.Result r = psql("-c", "SELECT * FROM no_such_table");

    assertEquals(1, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("relation \"no_such_table\" does not exist"), r.stderr());
  }

  @Test
  void backslashCopyLoadsAndDumpsAFile(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.csv");
    Path out = dir.resolve("out.csv");
    StringBuilder csv = new StringBuilder();
    for (int i = 1; i <= 3000; i++) {
      csv.append(i).append(",w").append(i).append('\n');
    }
    Files.writeString(in, csv, StandardCharsets.UTF_8);

    ExternalCommand.Result load = psql("-c", "\\copy from_file FROM '" + in + "' WITH (FORMAT csv)");
    assertTrue(load.succeeded(), load.describe());
    assertEquals("COPY 3000", load.stdout().strip());

    ExternalCommand.Result dump = psql("-c", "\\copy (SELECT id, word FROM from_file ORDER BY id) TO '" + out
        + "' WITH (FORMAT csv)");
    assertTrue(dump.succeeded(), dump.describe());
    assertEquals("COPY 3000", dump.stdout().strip());
    assertEquals(csv.toString(), Files.readString(out, StandardCharsets.UTF_8));

    assertEquals("3000", pg.psql("app", "SELECT count(*) FROM from_file"));
  }

  @Test
  void backslashCopyToStdoutStreamsATable() {
    ExternalCommand.Result r = psql("-c", "\\copy (SELECT id, word FROM source WHERE id <= 500 ORDER BY id) TO STDOUT");

    assertTrue(r.succeeded(), r.describe());
    String[] lines = r.stdout().split("\n");
    assertEquals(500, lines.length);
    assertEquals("1\tword1", lines[0]);
    assertEquals("500\tword500", lines[499]);
    assertFalse(r.stderr().contains("ERROR"), r.stderr());
  }

  private static ExternalCommand.Result psql(String... args) {
    return PgClients.psql(proxy.port(), "app", "secret", Map.of(), args);
  }
}

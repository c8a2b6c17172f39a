package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.PostgresServer.PasswordEncryption;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Client authentication terminated at the proxy: SCRAM-SHA-256 (the default) and md5 against
 * users in the config, with a plain password or a SCRAM verifier copied from {@code pg_authid};
 * a wrong password gets PostgreSQL's own error (SQLSTATE 28P01, "password authentication failed
 * for user"). The proxy logs in to the backend with the cluster's credentials.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgClientAuthTest {

  private static PostgresServer pg;
  private static ProxyFixture scram;
  private static ProxyFixture md5;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    pg.addUser("verified", "verifier-pw", PasswordEncryption.SCRAM_SHA_256);
    String verifier = pg.storedPassword("verified");
    assertTrue(verifier.startsWith("SCRAM-SHA-256$"), verifier);
    PgConfigText config = PgConfigText.forBackend(pg.address())
        .withUser("{ name: verified, scram_verifier: '" + verifier + "' }");
    scram = ProxyFixture.startYaml(config.withListener("auth_method: scram-sha-256").render(), PgConfigText.LISTENER);
    md5 = ProxyFixture.startYaml(config.withListener("auth_method: md5").render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture s = scram; ProxyFixture m = md5) {
      // proxies first, then the backend
    }
  }

  @Test
  void scramListenerAsksForScramSha256() throws Exception {
    try (PgWire wire = PgWire.connect(scram.port())) {
      wire.startup("app", "app", Map.of());
      PgWire.Message auth = wire.readUntil('R');
      assertEquals(PgWire.AUTH_SASL, auth.int32(0), "AuthenticationSASL");
      String mechanisms = new String(auth.body(), 4, auth.body().length - 4, StandardCharsets.UTF_8);
      assertTrue(mechanisms.contains("SCRAM-SHA-256"), mechanisms);
    }
  }

  @Test
  void scramRightPasswordLogsIn() throws SQLException {
    try (Connection c = PgClients.connect(scram.port(), "app", "secret", Map.of())) {
      assertEquals("app|app", PgClients.queryOne(c, "SELECT current_user || '|' || current_database()"));
    }
  }

  @Test
  void scramWrongPasswordFailsWithThePostgresError() {
    assertPasswordRefused(scram, "app", "not-the-secret");
  }

  @Test
  void unknownUserFailsLikeAWrongPassword() {
    assertPasswordRefused(scram, "nobody", "secret");
  }

  @Test
  void scramVerifierUserLogsInWithItsPassword() throws SQLException {
    try (Connection c = PgClients.connect(scram.port(), "verified", "verifier-pw", Map.of())) {
      assertEquals("1", PgClients.queryOne(c, "SELECT 1"));
    }
    assertPasswordRefused(scram, "verified", "secret");
  }

  @Test
  void md5ListenerAsksForMd5() throws Exception {
    try (PgWire wire = PgWire.connect(md5.port())) {
      wire.startup("app", "app", Map.of());
      PgWire.Message auth = wire.readUntil('R');
      assertEquals(PgWire.AUTH_MD5, auth.int32(0), "AuthenticationMD5Password");
      assertEquals(8, auth.body().length, "code and 4-byte salt");
    }
  }

  @Test
  void md5RightPasswordLogsInWithPgjdbcAndARawClient() throws Exception {
    try (Connection c = PgClients.connect(md5.port(), "app", "secret", Map.of())) {
      assertEquals("app", PgClients.queryOne(c, "SELECT current_user"));
    }
    try (PgWire wire = PgWire.connect(md5.port())) {
      wire.loginMd5("app", "secret", "app");
      assertEquals("3", wire.simpleQuery("SELECT 1 + 2"));
    }
  }

  @Test
  void md5WrongPasswordFailsWithThePostgresError() {
    assertPasswordRefused(md5, "app", "not-the-secret");
  }

  @Test
  void psqlLogsInWithScramAndWithMd5AndReportsAWrongPassword() {
    for (ProxyFixture proxy : new ProxyFixture[] {scram, md5}) {
      ExternalCommand.Result ok = PgClients.psql(proxy.port(), "app", "secret", Map.of(), "-c", "SELECT 'in'");
      assertTrue(ok.succeeded(), ok.describe());
      assertEquals("in", ok.stdout().strip());

      ExternalCommand.Result wrong = PgClients.psql(proxy.port(), "app", "wrong", Map.of(), "-c", "SELECT 1");
      assertEquals(2, wrong.exitCode(), wrong.describe());
      assertTrue(wrong.stderr().contains("password authentication failed for user \"app\""), wrong.stderr());
    }
  }

  private static void assertPasswordRefused(ProxyFixture proxy, String user, String password) {
    SQLException refused = assertThrows(SQLException.class,
        () -> PgClients.connect(proxy.port(), user, password, Map.of()).close());
    assertEquals("28P01", refused.getSQLState(), refused.getMessage());
    assertTrue(refused.getMessage().contains("password authentication failed for user \"" + user + "\""),
        refused.getMessage());
  }
}

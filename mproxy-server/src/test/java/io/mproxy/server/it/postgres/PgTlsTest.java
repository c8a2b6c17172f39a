package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.TestCertificates;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TLS between clients and the proxy: with {@code tls:} on the listener the proxy answers an
 * SSLRequest with 'S' and serves the configured certificate; without it, with 'N', so
 * {@code sslmode=require} fails the way it fails against a server without TLS. GSSENCRequest is
 * refused with 'N' and the client carries on in clear.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgTlsTest {

  private static TestCertificates certificates;
  private static PostgresServer pg;
  private static ProxyFixture tls;
  private static ProxyFixture plain;

  @BeforeAll
  static void start() throws Exception {
    certificates = TestCertificates.create();
    pg = PostgresServer.start();
    PgConfigText config = PgConfigText.forBackend(pg.address());
    tls = ProxyFixture.startYaml(config.withListener("tls: { cert: " + certificates.certificate()
        + ", key: " + certificates.privateKey() + " }").render(), PgConfigText.LISTENER);
    plain = ProxyFixture.startYaml(config.render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (TestCertificates c = certificates; PostgresServer p = pg; ProxyFixture t = tls; ProxyFixture x = plain) {
      // proxies first, then the backend, then the files
    }
  }

  @Test
  void sslRequestIsAcceptedOnlyWhereTlsIsConfigured() throws Exception {
    try (PgWire wire = PgWire.connect(tls.port())) {
      assertEquals('S', wire.request(PgWire.SSL_REQUEST_CODE));
    }
    try (PgWire wire = PgWire.connect(plain.port())) {
      assertEquals('N', wire.request(PgWire.SSL_REQUEST_CODE));
      wire.startup("app", "app", Map.of());
      assertEquals(PgWire.AUTH_SASL, wire.readUntil('R').int32(0), "after 'N' the startup goes on in clear");
    }
  }

  @Test
  void gssEncRequestIsRefusedAndTheClientGoesOnInClear() throws Exception {
    try (PgWire wire = PgWire.connect(plain.port())) {
      assertEquals('N', wire.request(PgWire.GSSENC_REQUEST_CODE));
      wire.startup("app", "app", Map.of());
      assertEquals(PgWire.AUTH_SASL, wire.readUntil('R').int32(0));
    }
  }

  @Test
  void pgjdbcSslmodeRequireConnects() throws SQLException {
    try (Connection c = PgClients.connect(tls.port(), "app", "secret", Map.of("sslmode", "require"))) {
      assertEquals("app", PgClients.queryOne(c, "SELECT current_user"));
    }
  }

  @Test
  void pgjdbcVerifyFullAcceptsTheConfiguredCertificate() throws SQLException {
    try (Connection c = PgClients.connect(tls.port(), "app", "secret",
        Map.of("sslmode", "verify-full", "sslrootcert", certificates.certificate().toString()))) {
      assertEquals("ok", PgClients.queryOne(c, "SELECT 'ok'"));
    }
  }

  @Test
  void pgjdbcSslmodeRequireIsRefusedByAProxyWithoutTls() {
    SQLException refused = assertThrows(SQLException.class,
        () -> PgClients.connect(plain.port(), "app", "secret", Map.of("sslmode", "require")).close());
    assertTrue(refused.getMessage().contains("does not support SSL"), refused.getMessage());
  }

  @Test
  void psqlSslmodeRequireRunsOverTls() {
    ExternalCommand.Result r = PgClients.psql(tls.port(), "app", "secret", Map.of("PGSSLMODE", "require"),
        "-c", "\\conninfo", "-c", "SELECT 'encrypted'");

    assertTrue(r.succeeded(), r.describe());
    assertTrue(r.stdout().contains("SSL connection (protocol: TLS"), r.stdout());
    assertTrue(r.stdout().strip().endsWith("encrypted"), r.stdout());
  }

  @Test
  void psqlSslmodeRequireFailsWithoutTls() {
    ExternalCommand.Result r = PgClients.psql(plain.port(), "app", "secret", Map.of("PGSSLMODE", "require"),
        "-c", "SELECT 1");

    assertEquals(2, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("server does not support SSL, but SSL was required"), r.stderr());
  }
}

package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.PostgresServer.HostAuth;
import io.mproxy.testkit.TestCertificates;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The proxy's own login to the backend, with the cluster's {@code credentials}: whichever method
 * the backend's {@code pg_hba.conf} demands (scram-sha-256, md5 with an md5-stored password,
 * cleartext password), and TLS to the backend with the cluster option
 * {@code tls: { mode, ca }}. Wrong credentials give the client an error rather than a hang.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgBackendAuthAndTlsTest {

  private static TestCertificates certificates;
  private static PostgresServer tlsBackend;

  @BeforeAll
  static void start() {
    certificates = TestCertificates.create();
    tlsBackend = PostgresServer.builder().tls(certificates).start();
  }

  @AfterAll
  static void stop() {
    try (TestCertificates c = certificates; PostgresServer p = tlsBackend) {
      // the backend, then the files
    }
  }

  @ParameterizedTest(name = "backend asks for {0}")
  @EnumSource(value = HostAuth.class, names = {"SCRAM_SHA_256", "MD5", "PASSWORD"})
  void theProxyLogsInToTheBackendWithEachMethod(HostAuth method) throws Exception {
    try (PostgresServer pg = PostgresServer.builder().hostAuth(method).start();
        ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).render(),
            PgConfigText.LISTENER);
        Connection c = PgClients.app(proxy.port())) {
      assertEquals("app", PgClients.queryOne(c, "SELECT current_user"));
      assertEquals(method.hbaMethod(), pg.psql("SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'"));
    }
  }

  @Test
  void wrongBackendCredentialsGiveTheClientAnError() throws Exception {
    try (PostgresServer pg = PostgresServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
            .withCluster("credentials: { user: app, password: not-the-backend-password }")
            .withPool("transaction", 0, 2)
            .render(), PgConfigText.LISTENER)) {
      SQLException failed = assertThrows(SQLException.class, () -> {
        try (Connection c = PgClients.app(proxy.port())) {
          PgClients.queryOne(c, "SELECT 1");
        }
      });
      assertTrue(failed.getMessage() != null && !failed.getMessage().isBlank(), String.valueOf(failed));
    }
  }

  @Test
  void tlsRequireToTheBackendEncryptsThePoolsSessions() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(tlsBackend.address())
        .withCluster("tls: { mode: require }").render(), PgConfigText.LISTENER);
        Connection c = PgClients.app(proxy.port())) {
      assertEquals("t", PgClients.queryOne(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"),
          "the backend session serving this client is encrypted");
    }
  }

  @Test
  void tlsVerifyFullChecksTheBackendCertificateAgainstTheCa() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(tlsBackend.address())
        .withCluster("tls: { mode: verify-full, ca: " + certificates.certificate() + " }").render(),
        PgConfigText.LISTENER);
        Connection c = PgClients.app(proxy.port())) {
      assertEquals("t", PgClients.queryOne(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
    }
  }

  @Test
  void tlsVerifyFullRefusesABackendSignedByAnotherCa() throws Exception {
    try (TestCertificates other = TestCertificates.create();
        ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(tlsBackend.address())
            .withCluster("tls: { mode: verify-full, ca: " + other.certificate() + " }")
            .withPool("transaction", 0, 2)
            .render(), PgConfigText.LISTENER)) {
      assertThrows(SQLException.class, () -> {
        try (Connection c = PgClients.app(proxy.port())) {
          PgClients.queryOne(c, "SELECT 1");
        }
      }, "no backend connection can be made, so the client's query fails");
    }
  }

  @Test
  void tlsRequireFailsAgainstABackendWithoutTls() throws Exception {
    try (PostgresServer plain = PostgresServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(PgConfigText.forBackend(plain.address())
            .withCluster("tls: { mode: require }")
            .withPool("transaction", 0, 2)
            .render(), PgConfigText.LISTENER)) {
      assertThrows(SQLException.class, () -> {
        try (Connection c = PgClients.app(proxy.port())) {
          PgClients.queryOne(c, "SELECT 1");
        }
      });
      assertEquals("0", plain.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"),
          "no unencrypted session was opened");
    }
  }
}

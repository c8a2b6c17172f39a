package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import io.mproxy.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A listener's certificate rotated in place (same paths, new content), as operators and
 * cert-manager do: pgjdbc with {@code sslmode=verify-full} and one certificate as its only trust
 * anchor proves which certificate the proxy serves, since the two test certificates have the same
 * subject but different keys. New handshakes get the new certificate once the daemon notices the
 * files; a connection made before keeps working; a key that does not match keeps the old
 * certificate and is counted in {@code mproxy_tls_reloads_total{result="failed"}}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgTlsRotationTest {

  private static final Duration NOTICED = Duration.ofSeconds(20);

  private TestCertificates first;
  private TestCertificates second;
  private PostgresServer pg;
  private Path dir;
  private Path cert;
  private Path key;
  private ProxyFixture proxy;

  @BeforeEach
  void start() throws Exception {
    first = TestCertificates.create();
    second = TestCertificates.create();
    pg = PostgresServer.start();
    dir = Files.createTempDirectory("mproxy-rotation-");
    cert = Files.copy(first.certificate(), dir.resolve("server.crt"));
    key = Files.copy(first.privateKey(), dir.resolve("server.key"));
    String yaml = PgConfigText.forBackend(pg.address())
        .withListener("tls: { cert: " + cert + ", key: " + key + " }").render()
        .replace("watch_config: false", "watch_config: true");
    proxy = ProxyFixture.startYaml(yaml, PgConfigText.LISTENER);
  }

  @AfterEach
  void stop() throws Exception {
    try (ProxyFixture p = proxy; PostgresServer s = pg; TestCertificates a = first; TestCertificates b = second) {
      // proxy first, then the backend and the certificates
    }
    Files.deleteIfExists(cert);
    Files.deleteIfExists(key);
    Files.deleteIfExists(dir);
  }

  @Test
  void newHandshakesGetTheRotatedCertificateAndOpenConnectionsCarryOn() throws Exception {
    double applied = proxy.metrics().sum("mproxy_tls_reloads_total", "result", "applied");
    try (Connection before = trusting(first.certificate())) {
      assertEquals("1", PgClients.queryOne(before, "SELECT 1"));

      replace(second.privateKey(), key);
      replace(second.certificate(), cert);

      Eventually.assertWithin(NOTICED, () -> trusting(second.certificate()).close());
      SQLException old = assertThrows(SQLException.class, () -> trusting(first.certificate()).close());
      assertTrue(old.getMessage().contains("SSL") || String.valueOf(old.getCause()).contains("SSL"),
          "the old certificate is no longer served: " + old);
      assertEquals("2", PgClients.queryOne(before, "SELECT 2"), "the connection made before the rotation carries on");
    }
    assertTrue(proxy.metrics().sum("mproxy_tls_reloads_total", "result", "applied") > applied,
        proxy.metrics().samples("mproxy_tls_reloads_total").toString());
  }

  @Test
  void aKeyOfAnotherCertificateKeepsTheOldOneServedAndIsCounted() throws Exception {
    double failed = proxy.metrics().sum("mproxy_tls_reloads_total", "result", "failed");

    replace(second.privateKey(), key);

    Eventually.assertWithin(NOTICED, () -> assertTrue(
        proxy.metrics().sum("mproxy_tls_reloads_total", "result", "failed") > failed, "the failure is counted"));
    try (Connection c = trusting(first.certificate())) {
      assertEquals("still", PgClients.queryOne(c, "SELECT 'still'"));
    }
    ProxyFixture.Http reload = proxy.post("/api/reload");
    assertEquals(400, reload.status(), reload.body());
    assertTrue(reload.body().contains("tls"), reload.body());

    replace(second.certificate(), cert);
    Eventually.assertWithin(NOTICED, () -> trusting(second.certificate()).close());
  }

  private Connection trusting(Path root) throws SQLException {
    return PgClients.connect(proxy.port(), "app", "secret",
        Map.of("sslmode", "verify-full", "sslrootcert", root.toString()));
  }

  /** Writes {@code from}'s content over {@code to} in place, as `cp` does. */
  private static void replace(Path from, Path to) throws Exception {
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.mproxy.testkit.RedisServer;
import io.mproxy.testkit.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS from the proxy to Redis backends (cluster {@code tls: { mode, ca }}) against a real
 * redis-server that listens only on a TLS port: plain-text Lettuce clients of the proxy work in
 * {@code require} and in {@code verify-full} with the backend's CA; {@code verify-full} with
 * another CA never reaches the backend and the client gets an error.
 */
class RedisBackendTlsTest {

  private static TestCertificates backendCert;
  private static TestCertificates otherCa;
  private static RedisServer redis;
  private static LettuceClients lettuce;

  @BeforeAll
  static void start() {
    backendCert = TestCertificates.create();
    otherCa = TestCertificates.create();
    redis = RedisServer.builder().tlsOnly(backendCert.certificate(), backendCert.privateKey()).start();
    lettuce = new LettuceClients();
  }

  @AfterAll
  static void stop() throws Exception {
    try (TestCertificates a = backendCert; TestCertificates b = otherCa; RedisServer r = redis;
        LettuceClients l = lettuce) {
      // closed in reverse order
    }
  }

  @Test
  void backendServesOnlyTls() throws Exception {
    String seen = RedisTlsTest.plainPing(redis.port());
    assertTrue(!seen.contains("PONG"), "the test backend must not answer plain text, got: " + seen);
  }

  @Test
  void requireModeCarriesPlainClientsOverTls() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("tls: { mode: require }"))) {
      setAndGet(proxy, "btls:require");
    }
  }

  @Test
  void verifyFullWithTheBackendsCaWorks() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("tls: { mode: verify-full, ca: " + backendCert.certificate() + " }"))) {
      setAndGet(proxy, "btls:verify");
    }
  }

  @Test
  void verifyFullWithAnotherCaLeavesTheBackendDown() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("tls: { mode: verify-full, ca: " + otherCa.certificate() + " }"))) {
      RedisClient client = lettuce.client(proxy.uri());
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        RedisException e = assertThrows(RedisException.class, () -> c.sync().set("btls:wrongca", "x"));
        assertTrue(e.getMessage() != null && e.getMessage().contains("mproxy"),
            "the proxy's own error, not a client timeout: " + e);
      }
      assertEquals("", redis.cli("GET", "btls:wrongca"), "nothing reached the backend");
    }
  }

  @Test
  void preferIsRefusedForRedis() {
    Exception e = assertThrows(Exception.class, () -> ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("tls: { mode: prefer }")).close());
    assertTrue(String.valueOf(e.getMessage()).contains("prefer"), "names the refused mode: " + e);
  }

  private static void setAndGet(ProxyFixture proxy, String key) {
    RedisClient client = lettuce.client(proxy.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisCommands<String, String> s = c.sync();
      assertEquals("OK", s.set(key, "through-tls"));
      assertEquals("through-tls", s.get(key));
    }
    assertEquals("through-tls", redis.cli("GET", key), "the value is on the TLS-only backend");
  }
}

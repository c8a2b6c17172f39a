package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.RedisConnectionException;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import io.mproxy.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS between Redis clients and the proxy (listener {@code tls: { cert, key }}, implicit TLS as
 * {@code redis-server --tls-port} speaks it): Lettuce and redis-cli over TLS trusting the test
 * certificate reach the backend; a plain-text client gets no answer and is closed; a certificate
 * rotated in place is served to new handshakes while an open connection carries on.
 */
class RedisTlsTest {

  private static final String HOST = "127.0.0.1";

  private static TestCertificates certs;
  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static LettuceClients lettuce;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.create();
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withListener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }"));
    lettuce = new LettuceClients();
  }

  @AfterAll
  static void stop() throws Exception {
    try (TestCertificates c = certs; RedisServer r = redis; ProxyFixture p = proxy; LettuceClients l = lettuce) {
      // closed in reverse order: clients, proxy, backend, certificate files
    }
  }

  /** A Lettuce client over TLS to {@code port}, verifying the peer against {@code ca}. */
  static RedisClient tlsClient(LettuceClients lettuce, int port, java.nio.file.Path ca) {
    RedisURI uri = RedisURI.builder().withHost(HOST).withPort(port).withSsl(true).withVerifyPeer(true)
        .withTimeout(Duration.ofSeconds(10)).build();
    ClientOptions options = ClientOptions.builder()
        .sslOptions(SslOptions.builder().jdkSslProvider().trustManager(ca.toFile()).build())
        .build();
    return lettuce.client(uri, options);
  }

  @Test
  void lettuceOverTlsSetsAndGetsThroughTheProxy() {
    RedisClient client = tlsClient(lettuce, proxy.port(), certs.certificate());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisCommands<String, String> s = c.sync();
      assertEquals("OK", s.set("tls:lettuce", "over-tls"));
      assertEquals("over-tls", s.get("tls:lettuce"));
    }
    assertEquals("over-tls", redis.cli("GET", "tls:lettuce"), "the value reached the plain backend");
  }

  @Test
  void redisCliOverTlsWorks() {
    String set = RedisServer.cliAt(HOST, proxy.port(), "--tls", "--cacert", certs.certificate().toString(),
        "SET", "tls:cli", "from-cli");
    assertEquals("OK", set);
    assertEquals("from-cli", RedisServer.cliAt(HOST, proxy.port(), "--tls", "--cacert",
        certs.certificate().toString(), "GET", "tls:cli"));
    assertEquals("from-cli", redis.cli("GET", "tls:cli"));
  }

  @Test
  void plainTextClientIsClosedWithoutAnAnswer() throws Exception {
    String seen = plainPing(proxy.port());
    assertFalse(seen.contains("PONG"), "a plain-text PING must not be answered, got: " + seen);
  }

  /**
   * A TLS client that never logs in is told why inside TLS: the handshake timeout's refusal passes
   * the SslHandler (it used to be written as plain bytes under the TLS session).
   */
  @Test
  void handshakeTimeoutRefusalIsSentInsideTls() throws Exception {
    String yaml = ProxyConfigText.forBackend(redis.address())
        .withListener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }")
        .withListener("handshake_timeout_ms: 300")
        .withListener("auth: { mode: terminate, users: [ { name: app, password: s3cret-tls } ] }").render();
    try (ProxyFixture locked = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER);
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) trusting(certs.certificate())
            .getSocketFactory().createSocket(HOST, locked.port())) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream read = new ByteArrayOutputStream();
      byte[] buf = new byte[512];
      try {
        for (int n; (n = in.read(buf)) != -1 && read.size() < 4096; ) {
          read.write(buf, 0, n);
        }
      } catch (javax.net.ssl.SSLException | java.net.SocketException closed) {
        // the proxy closed after its refusal
      }
      String seen = read.toString(StandardCharsets.ISO_8859_1);
      assertTrue(seen.startsWith("-ERR mproxy: login not completed within handshake_timeout_ms=300"),
          "the refusal arrives decrypted through TLS, got: " + seen);
    }
  }

  /** An SSL context trusting only the PEM certificate {@code ca}. */
  static javax.net.ssl.SSLContext trusting(Path ca) throws Exception {
    java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream pem = Files.newInputStream(ca)) {
      store.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(pem));
    }
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  /**
   * Two certificates with the same subject and different keys: a client trusting only one of them
   * proves which one the proxy serves.
   */
  @Test
  void rotatedCertificateReachesNewHandshakes() throws Exception {
    try (TestCertificates second = TestCertificates.create()) {
      Path dir = Files.createTempDirectory("mproxy-redis-rotation-");
      Path cert = Files.copy(certs.certificate(), dir.resolve("server.crt"));
      Path key = Files.copy(certs.privateKey(), dir.resolve("server.key"));
      String yaml = ProxyConfigText.forBackend(redis.address()).withServer("{ watch_config: true, shutdown_grace_ms: 5000 }")
          .withListener("tls: { cert: " + cert + ", key: " + key + " }").render();
      try (ProxyFixture rotating = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER);
          StatefulRedisConnection<String, String> before =
              tlsClient(lettuce, rotating.port(), certs.certificate()).connect()) {
        assertEquals("PONG", before.sync().ping());

        Files.copy(second.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);

        Eventually.assertWithin(Duration.ofSeconds(20),
            () -> tlsClient(lettuce, rotating.port(), second.certificate()).connect().close());
        assertThrows(RedisConnectionException.class,
            () -> tlsClient(lettuce, rotating.port(), certs.certificate()).connect().close(),
            "the old certificate is no longer served");
        assertEquals("PONG", before.sync().ping(), "the connection made before the rotation carries on");
      } finally {
        Files.deleteIfExists(cert);
        Files.deleteIfExists(key);
        Files.deleteIfExists(dir);
      }
    }
  }

  /**
   * Sends a plain RESP PING and reads until the proxy closes the connection; fails if the proxy
   * neither answers nor closes within 10 s. Returns what was read (TLS alert bytes at most).
   */
  static String plainPing(int port) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), 5000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream read = new ByteArrayOutputStream();
      byte[] buf = new byte[512];
      try {
        for (int n; (n = in.read(buf)) != -1; ) {
          read.write(buf, 0, n);
          if (read.size() > 64 * 1024) {
            throw new AssertionError("the proxy kept sending to a plain-text client");
          }
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the proxy neither closed nor answered a plain-text client within 10 s", e);
      } catch (java.net.SocketException reset) {
        // connection reset by the proxy: closed, as required
      }
      return read.toString(StandardCharsets.ISO_8859_1);
    }
  }
}

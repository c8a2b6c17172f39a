package io.mproxy.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.TestCertificates;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates rotated in place: real openssl-made certificates, contexts checked by running a
 * TLS handshake in memory between two JDK {@link SSLEngine}s and reading the certificate the
 * client was shown.
 */
class TlsReloadTest {

  private static TestCertificates first;
  private static TestCertificates second;

  @TempDir
  Path dir;

  @BeforeAll
  static void makeCertificates() {
    first = TestCertificates.create();
    second = TestCertificates.create();
  }

  @AfterAll
  static void deleteCertificates() {
    first.close();
    second.close();
  }

  @Test
  void rotatedFilesAreServedToNewHandshakesOnceTheyHaveSettled() throws Exception {
    Path cert = copy(first.certificate(), "cert.pem");
    Path key = copy(first.privateKey(), "key.pem");
    ServerTls tls = parse(cert, key);
    assertEquals(serial(first.certificate()), servedSerial(tls.context()));
    SSLEngine openBefore = tls.context().newEngine(ByteBufAllocator.DEFAULT);
    long applied = TlsReloads.applied();

    copy(second.privateKey(), "key.pem");
    copy(second.certificate(), "cert.pem");
    TlsReloads.checkAll();
    assertEquals(serial(first.certificate()), servedSerial(tls.context()), "one look at changed files waits");
    TlsReloads.checkAll();

    assertEquals(serial(second.certificate()), servedSerial(tls.context()));
    assertEquals(applied + 1, TlsReloads.applied());
    assertEquals(serial(first.certificate()), servedSerial(openBefore),
        "an engine made before the reload keeps the certificate it was made with");
  }

  @Test
  void readingTheConfigurationAgainReloadsAtOnceForEveryUserOfTheFiles() throws Exception {
    Path cert = copy(first.certificate(), "cert.pem");
    Path key = copy(first.privateKey(), "key.pem");
    ServerTls running = parse(cert, key);

    copy(second.certificate(), "cert.pem");
    copy(second.privateKey(), "key.pem");
    ServerTls reread = parse(cert, key);

    assertEquals(serial(second.certificate()), servedSerial(reread.context()));
    assertEquals(serial(second.certificate()), servedSerial(running.context()),
        "the running listener's options see the new certificate too");
  }

  @Test
  void aBadNewKeyKeepsTheOldCertificateAndIsReportedOnce() throws Exception {
    Path cert = copy(first.certificate(), "cert.pem");
    Path key = copy(first.privateKey(), "key.pem");
    ServerTls tls = parse(cert, key);
    long failed = TlsReloads.failed();

    copy(second.privateKey(), "key.pem");
    TlsReloads.checkAll();
    TlsReloads.checkAll();
    TlsReloads.checkAll();

    assertEquals(failed + 1, TlsReloads.failed(), "a key that does not match the certificate, counted once");
    assertEquals(serial(first.certificate()), servedSerial(tls.context()));
    List<String> problems = new ArrayList<>();
    ServerTls reread = ServerTls.parse(Map.of("cert", cert.toString(), "key", key.toString()), problems);
    assertTrue(problems.size() == 1 && problems.get(0).startsWith("tls: cannot use cert"),
        "a configuration reload with these files is refused: " + problems);
    assertEquals(serial(first.certificate()), servedSerial(reread.context()),
        "options read again while the files are bad still serve the previous certificate, never no TLS");
    assertEquals(serial(first.certificate()), servedSerial(tls.context()));

    copy(second.certificate(), "cert.pem");
    TlsReloads.checkAll();
    TlsReloads.checkAll();
    assertEquals(serial(second.certificate()), servedSerial(tls.context()), "the matching pair is picked up");
  }

  @Test
  void aRotatedBackendCaIsTrustedByNewConnections() throws Exception {
    Path ca = copy(first.certificate(), "ca.pem");
    List<String> problems = new ArrayList<>();
    BackendTls tls = BackendTls.parse(Map.of("mode", "verify-full", "ca", ca.toString()), problems);
    assertEquals(List.of(), problems);
    SslContext secondServer = SslContextBuilder.forServer(second.certificate().toFile(), second.privateKey().toFile())
        .build();
    assertThrows(SSLException.class, () -> handshake(tls.context().newEngine(ByteBufAllocator.DEFAULT, "localhost", 1),
        secondServer.newEngine(ByteBufAllocator.DEFAULT)), "the second certificate is not trusted yet");

    copy(second.certificate(), "ca.pem");
    TlsReloads.checkAll();
    TlsReloads.checkAll();

    SSLEngine client = tls.context().newEngine(ByteBufAllocator.DEFAULT, "localhost", 1);
    handshake(client, secondServer.newEngine(ByteBufAllocator.DEFAULT));
    assertEquals(serial(second.certificate()),
        ((X509Certificate) client.getSession().getPeerCertificates()[0]).getSerialNumber());
  }

  private Path copy(Path from, String name) throws Exception {
    Path to = dir.resolve(name);
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    return to;
  }

  private static ServerTls parse(Path cert, Path key) {
    List<String> problems = new ArrayList<>();
    ServerTls tls = ServerTls.parse(Map.of("cert", cert.toString(), "key", key.toString()), problems);
    assertEquals(List.of(), problems);
    assertNotNull(tls);
    return tls;
  }

  private static BigInteger serial(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
    }
  }

  private static BigInteger servedSerial(SslContext server) throws Exception {
    return servedSerial(server.newEngine(ByteBufAllocator.DEFAULT));
  }

  private static BigInteger servedSerial(SSLEngine server) throws Exception {
    SslContext trustAll = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    SSLEngine client = trustAll.newEngine(ByteBufAllocator.DEFAULT, "localhost", 1);
    handshake(client, server);
    return ((X509Certificate) client.getSession().getPeerCertificates()[0]).getSerialNumber();
  }

  private static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    TlsSelfCheck.handshake(client, server);
  }
}

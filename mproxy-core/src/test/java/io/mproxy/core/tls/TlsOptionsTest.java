package io.mproxy.core.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsOptionsTest {

  @TempDir
  static Path dir;
  static Path cert;
  static Path key;

  @BeforeAll
  static void makeCertificate() throws Exception {
    cert = dir.resolve("cert.pem");
    key = dir.resolve("key.pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl did not finish");
    assertEquals(0, p.exitValue(), "openssl failed (is the openssl package installed?): " + out);
  }

  @Test
  void serverTlsBuildsAContextFromPemFiles() {
    List<String> problems = new ArrayList<>();
    ServerTls tls = ServerTls.parse(Map.of("cert", cert.toString(), "key", key.toString()), problems);
    assertEquals(List.of(), problems);
    assertNotNull(tls);
    assertTrue(tls.context().isServer());
  }

  @Test
  void serverTlsAbsentIsNull() {
    List<String> problems = new ArrayList<>();
    assertNull(ServerTls.parse(null, problems));
    assertEquals(List.of(), problems);
  }

  @Test
  void serverTlsReportsMissingFilesAndUnknownKeys() {
    List<String> problems = new ArrayList<>();
    assertNull(ServerTls.parse(Map.of("cert", "/nonexistent.pem", "keyy", "x"), problems));
    assertTrue(problems.contains("tls.keyy: unknown key (expected cert, key)"), problems.toString());
    assertTrue(problems.contains("tls.cert: /nonexistent.pem is not a readable file"), problems.toString());
    assertTrue(problems.contains("tls.key: required (a PEM file path)"), problems.toString());
  }

  @Test
  void serverTlsRejectsAKeyThatIsNotAKey() throws Exception {
    Path bogus = dir.resolve("bogus.pem");
    Files.writeString(bogus, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    List<String> problems = new ArrayList<>();
    assertNull(ServerTls.parse(Map.of("cert", cert.toString(), "key", bogus.toString()), problems));
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("tls: cannot use cert"), problems.get(0));
  }

  @Test
  void backendTlsModes() {
    List<String> problems = new ArrayList<>();
    assertSame(BackendTls.DISABLED, BackendTls.parse(null, problems));
    BackendTls require = BackendTls.parse(Map.of("mode", "require"), problems);
    assertEquals(BackendTls.Mode.REQUIRE, require.mode());
    assertTrue(require.context().isClient());
    BackendTls verify = BackendTls.parse(Map.of("mode", "verify-full", "ca", cert.toString()), problems);
    assertEquals(BackendTls.Mode.VERIFY_FULL, verify.mode());
    assertEquals(List.of(), problems);
  }

  @Test
  void backendTlsVerifyFullNeedsACa() {
    List<String> problems = new ArrayList<>();
    assertSame(BackendTls.DISABLED, BackendTls.parse(Map.of("mode", "verify-full"), problems));
    assertEquals(List.of("tls.ca: required (a PEM file path)"), problems);
    problems.clear();
    BackendTls.parse(Map.of("mode", "sometimes"), problems);
    assertEquals(List.of("tls.mode: 'sometimes' is not one of disable, prefer, require, verify-full"),
        problems);
  }
}

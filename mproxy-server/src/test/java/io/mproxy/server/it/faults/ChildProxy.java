package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.ChildProcesses;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import io.mproxy.testkit.Signals;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The daemon as {@code bin/mproxy run --config FILE} runs it ({@code io.mproxy.server.Main}), in
 * a JVM of its own started from the test class path, so that a test can send it SIGTERM and
 * watch it drain and exit. The YAML must bind its one listener and the admin API to
 * {@code 127.0.0.1:0}; they are rewritten to free ports picked here.
 */
final class ChildProxy implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  private final Path dir;
  private final Process process;
  private final int port;
  private final int adminPort;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ChildProxy(Path dir, Process process, int port, int adminPort) {
    this.dir = dir;
    this.process = process;
    this.port = port;
    this.adminPort = adminPort;
  }

  static ChildProxy start(String yaml) throws Exception {
    int port = FreePort.loopback();
    int admin = FreePort.loopback();
    String text = yaml.replace("admin: { bind: 127.0.0.1:0 }", "admin: { bind: 127.0.0.1:" + admin + " }")
        .replace("bind: 127.0.0.1:0", "bind: 127.0.0.1:" + port);
    Path dir = Files.createTempDirectory("mproxy-faults-child-");
    Path file = dir.resolve("mproxy.yaml");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), "io.mproxy.server.Main", "run", "--config", file.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.log").toFile());
    ChildProxy child = new ChildProxy(dir, ChildProcesses.start(pb), port, admin);
    Eventually.assertWithin(READY_TIMEOUT, () -> {
      assertTrue(child.process.isAlive(), "the child mproxy exited: " + child.log());
      assertEquals(200, child.get("/healthz").statusCode(), child.log());
    });
    return child;
  }

  int port() {
    return port;
  }

  Process process() {
    return process;
  }

  void sigterm() {
    Signals.terminate(process.pid());
  }

  /** Requests the child has at its backends now, from {@code /api/status}. */
  int backendInflight() throws IOException {
    JsonNode status = JSON.readTree(get("/api/status").body());
    int n = 0;
    for (JsonNode c : status.path("clusters")) {
      for (JsonNode b : c.path("backends")) {
        n += b.path("inflight").asInt();
      }
    }
    return n;
  }

  String log() {
    try {
      return Files.readString(dir.resolve("proxy.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read the child's log: " + e + ")";
    }
  }

  private HttpResponse<String> get(String path) throws IOException {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public void close() throws IOException {
    ChildProcesses.kill(process, 10_000);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

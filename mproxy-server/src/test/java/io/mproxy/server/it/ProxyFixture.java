package io.mproxy.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisURI;
import io.mproxy.server.Daemon;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A running mproxy daemon for integration tests: writes a {@link ProxyConfigText} to
 * {@code mproxy.yaml} in a fresh temporary directory, starts {@link Daemon#start} on it, and
 * exposes the listener's port, the admin API and the file (to rewrite it for reloads).
 * {@link #close()} stops the daemon and deletes the directory.
 */
public final class ProxyFixture implements AutoCloseable {

  static final String HOST = "127.0.0.1";
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Path configFile;
  private final Daemon daemon;
  private final int port;
  private final int adminPort;
  private final HttpClient http;
  private boolean stopped;

  private ProxyFixture(Path dir, Path configFile, Daemon daemon, String listener) {
    this.dir = dir;
    this.configFile = configFile;
    this.daemon = daemon;
    this.port = daemon.server().listenerPort(listener);
    this.adminPort = daemon.adminPort();
    this.http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
  }

  static ProxyFixture start(ProxyConfigText config) throws Exception {
    return startYaml(config.render(), ProxyConfigText.LISTENER);
  }

  /**
   * Starts a daemon on a config file with exactly {@code yaml} (any protocol); {@link #port()}
   * is then the port of the listener named {@code listener}. Bind listeners and the admin API
   * to {@code 127.0.0.1:0}.
   */
  public static ProxyFixture startYaml(String yaml, String listener) throws Exception {
    Path dir = Files.createTempDirectory("mproxy-it-");
    Path file = dir.resolve("mproxy.yaml");
    try {
      Files.writeString(file, withTestTransport(yaml), StandardCharsets.UTF_8);
      return new ProxyFixture(dir, file, Daemon.start(file), listener);
    } catch (Exception | Error e) {
      deleteRecursively(dir);
      throw e;
    }
  }

  /**
   * The system property that runs every fixture-based IT on another transport, e.g.
   * {@code -Dmproxy.test.transport=io_uring}: its value is written as {@code server.transport}
   * into each config that does not name a transport itself.
   */
  public static final String TRANSPORT_PROPERTY = "mproxy.test.transport";

  /**
   * {@code yaml} with {@code server.transport} set from {@link #TRANSPORT_PROPERTY}; unchanged
   * when the property is unset or the config names a transport. Handles the shapes the ITs write:
   * a flow mapping {@code server: { ... }}, a block mapping, or no {@code server:} section.
   */
  static String withTestTransport(String yaml) {
    String transport = System.getProperty(TRANSPORT_PROPERTY, "").trim();
    if (transport.isEmpty()) {
      return yaml;
    }
    String[] lines = yaml.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].startsWith("server:")) {
        continue;
      }
      String rest = lines[i].substring("server:".length()).trim();
      if (rest.startsWith("{")) {
        if (!rest.contains("transport:")) {
          lines[i] = "server: { transport: " + transport + (rest.substring(1).trim().equals("}") ? " " : ", ")
              + rest.substring(1).trim();
        }
        return String.join("\n", lines);
      }
      if (!rest.isEmpty() && !rest.startsWith("#")) {
        throw new IllegalArgumentException("cannot add server.transport to: " + lines[i]);
      }
      for (int j = i + 1; j < lines.length && (lines[j].startsWith(" ") || lines[j].isBlank()); j++) {
        if (lines[j].trim().startsWith("transport:")) {
          return yaml;
        }
      }
      String next = i + 1 < lines.length ? lines[i + 1] : "";
      String indent = next.startsWith(" ") ? next.substring(0, next.length() - next.stripLeading().length()) : "  ";
      lines[i] = lines[i] + "\n" + indent + "transport: " + transport;
      return String.join("\n", lines);
    }
    return "server: { transport: " + transport + " }\n" + yaml;
  }

  /** The bound port of the listener the fixture was started for. */
  public int port() {
    return port;
  }

  public int adminPort() {
    return adminPort;
  }

  public Daemon daemon() {
    return daemon;
  }

  public Path configFile() {
    return configFile;
  }

  /** A new raw RESP connection to the proxy. */
  RespConnection connect() throws IOException {
    return RespConnection.open(HOST, port);
  }

  /** {@code redis://127.0.0.1:port} with a 10 s command timeout, for Lettuce. */
  RedisURI uri() {
    return RedisURI.builder().withHost(HOST).withPort(port)
        .withTimeout(Duration.ofSeconds(10)).build();
  }

  /**
   * Replaces the config file's content atomically (write a sibling, rename over), as editors and
   * config managers do, so the file watcher never sees half a file.
   */
  public void rewriteConfig(String text) throws IOException {
    Path tmp = dir.resolve("mproxy.yaml.tmp");
    Files.writeString(tmp, withTestTransport(text), StandardCharsets.UTF_8);
    Files.move(tmp, configFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  // ---------------------------------------------------------------- admin API

  /** The answer of one admin request. */
  public record Http(int status, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  public Http get(String path) {
    return send(HttpRequest.newBuilder(adminUri(path)).GET());
  }

  public Http post(String path) {
    return send(HttpRequest.newBuilder(adminUri(path)).POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code GET /api/status}, which must answer 200. */
  public JsonNode status() {
    Http r = get("/api/status");
    if (r.status() != 200) {
      throw new AssertionError("/api/status answered " + r.status() + ": " + r.body());
    }
    return r.json();
  }

  /** The {@code resource_groups[]} entry of {@code group} in {@code /api/status}. */
  public JsonNode groupStatus(String group) {
    for (JsonNode g : status().path("resource_groups")) {
      if (group.equals(g.path("name").asText())) {
        return g;
      }
    }
    throw new AssertionError("no resource group '" + group + "' in /api/status");
  }

  /** The only backend of the cluster in {@code /api/status}. */
  JsonNode backendStatus() {
    for (JsonNode c : status().path("clusters")) {
      if (ProxyConfigText.CLUSTER.equals(c.path("name").asText())) {
        return c.path("backends").path(0);
      }
    }
    throw new AssertionError("no cluster '" + ProxyConfigText.CLUSTER + "' in /api/status");
  }

  /** {@code GET /metrics}, which must answer 200, parsed. */
  public PromScrape metrics() {
    Http r = get("/metrics");
    if (r.status() != 200) {
      throw new AssertionError("/metrics answered " + r.status() + ": " + r.body());
    }
    return PromScrape.parse(r.body());
  }

  private URI adminUri(String path) {
    return URI.create("http://" + HOST + ":" + adminPort + path);
  }

  private Http send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.timeout(HTTP_TIMEOUT).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Http(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** {@link Daemon#shutdown()}: the graceful drain. {@link #close()} then only cleans up. */
  public void shutdown() {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    daemon.shutdown();
  }

  @Override
  public void close() {
    boolean stop;
    synchronized (this) {
      stop = !stopped;
      stopped = true;
    }
    try {
      if (stop) {
        daemon.close();
      }
    } finally {
      deleteRecursively(dir);
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // a stray temp file is harmless
        }
      });
    } catch (IOException ignored) {
      // a stray temp directory is harmless
    }
  }
}

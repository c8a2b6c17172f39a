package io.mproxy.server.admin;

import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.RequestKind;
import io.mproxy.server.metrics.RuntimeGauges;
import io.mproxy.server.metrics.TestRuntime;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin endpoints over real sockets on 127.0.0.1, in front of a real Gateway on a manual clock. */
class AdminServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final TestRuntime rt = new TestRuntime();
  private final RuntimeGauges gauges = new RuntimeGauges(rt, rt.registry);
  private final Queue<ReloadResult> reloads = new ArrayDeque<>();
  private EventLoopGroup group;
  private AdminServer server;
  private HttpClient client;

  @BeforeEach
  void start() throws IOException {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ReloadAction reload = () -> {
      synchronized (reloads) {
        return reloads.remove();
      }
    };
    server = new AdminServer(new AdminConfig(new HostPort("127.0.0.1", 0)), rt, rt.registry, gauges, reload,
        group);
    server.start();
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void healthzIsUnavailableUntilReady() throws Exception {
    HttpResponse<String> r = get("/healthz");
    assertEquals(503, r.statusCode());
    rt.ready(true);
    r = get("/healthz");
    assertEquals(200, r.statusCode());
    assertEquals("ok\n", r.body());
    assertEquals("text/plain; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
  }

  @Test
  void metricsServesPrometheusTextWithCoreEventsAndGauges() throws Exception {
    rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    rt.admit("report", RequestKind.READ, "KEYS ?", 16);
    rt.admit("report", RequestKind.READ, "KEYS ?", 16);
    rt.telemetry.configReload(true);

    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
    String s = r.body();
    assertSample(s, "mproxy_requests_total{group=\"default\",listener=\"l1\",outcome=\"ok\",protocol=\"redis\"} 1.0");
    assertSample(s, "mproxy_requests_total{group=\"batch\",listener=\"l1\",outcome=\"rejected\",protocol=\"redis\"} 1.0");
    assertSample(s, "mproxy_ru_total{group=\"default\",kind=\"read\"} 3.0");
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"default\",listener=\"l1\"} 1");
    assertSample(s, "mproxy_shed_total{group=\"batch\",priority=\"low\",reason=\"ru_limit\"} 1.0");
    assertSample(s, "mproxy_config_reloads_total{result=\"ok\"} 1.0");
    assertSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:7001\",cluster=\"c1\"} 0.0");
    assertSample(s, "mproxy_pool_connections{backend=\"127.0.0.1:7001\",cluster=\"c1\",state=\"idle\"} 0.0");
    assertSample(s, "mproxy_client_connections{listener=\"l1\"} 3.0");
    assertSample(s, "mproxy_ru_share_per_sec{group=\"default\"} 1000.0");
    assertSample(s, "mproxy_cluster_members 1.0");

    rt.telemetry.queueWait("slow", io.mproxy.core.config.Priority.LOW, 3_000_000);
    assertSample(get("/metrics").body(), "mproxy_queue_wait_seconds_count{group=\"slow\",priority=\"low\"} 1");
  }

  @Test
  void statusDescribesListenersClustersGroupsAndMembers() throws Exception {
    rt.generation(4);
    rt.clock.advanceMillis(1500);
    rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    rt.admit("report", RequestKind.READ, "KEYS ?", 16);
    rt.admit("report", RequestKind.READ, "KEYS ?", 16);
    rt.admit("app", RequestKind.READ, "GET ?", 16).ticket.dispatched(rt.primary());

    HttpResponse<String> r = get("/api/status");
    assertEquals(200, r.statusCode());
    assertEquals("application/json; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
    JsonNode status = JSON.readTree(r.body());
    assertEquals(TestRuntime.VERSION, status.path("version").asText());
    assertEquals(4, status.path("generation").asLong());
    assertEquals(1.502, status.path("uptime_seconds").asDouble(), 1e-9);

    JsonNode l1 = status.path("listeners").get(0);
    assertEquals("l1", l1.path("name").asText());
    assertEquals("redis", l1.path("protocol").asText());
    assertEquals("127.0.0.1:6380", l1.path("bind").asText());
    assertEquals("c1", l1.path("cluster").asText());
    assertEquals(3, l1.path("client_connections").asInt());

    JsonNode c1 = status.path("clusters").get(0);
    assertEquals("c1", c1.path("name").asText());
    assertEquals("redis", c1.path("protocol").asText());
    JsonNode primary = c1.path("backends").get(0);
    assertEquals("127.0.0.1:7001", primary.path("address").asText());
    assertEquals("primary", primary.path("role").asText());
    assertEquals("up", primary.path("health").asText());
    assertEquals(1, primary.path("inflight").asInt());
    assertTrue(primary.path("ewma_latency_ms").asDouble() > 0, primary.toString());
    assertEquals("closed", primary.path("circuit").asText());
    assertEquals(0, primary.path("consecutive_failures").asInt());
    assertTrue(primary.path("last_error").isNull());
    JsonNode pool = primary.path("pool");
    for (String field : List.of("idle", "active", "opening", "waiting")) {
      assertEquals(0, pool.path(field).asInt(-1), field);
    }
    assertEquals("replica", c1.path("backends").get(1).path("role").asText());

    JsonNode batch = groupNamed(status, "batch");
    assertEquals("low", batch.path("priority").asText());
    assertEquals("reject", batch.path("on_exhausted").asText());
    assertEquals(1.0, batch.path("limit_ru_per_sec").asDouble());
    assertEquals(1.0, batch.path("share_ru_per_sec").asDouble());
    assertEquals(1.0, batch.path("burst").asDouble());
    assertEquals(1, batch.path("admitted").asLong());
    assertEquals(1, batch.path("rejected").asLong());
    JsonNode def = groupNamed(status, "default");
    assertEquals(2, def.path("admitted").asLong());
    assertEquals(0, def.path("rejected").asLong());
    assertEquals(1, def.path("inflight").asInt());
    assertEquals(0, def.path("queued").asInt());
    assertEquals(1000.0, def.path("limit_ru_per_sec").asDouble());
    assertTrue(def.has("tokens") && def.has("ru_per_sec"), def.toString());
    assertEquals("slow", status.path("resource_groups").get(2).path("name").asText(), "groups sorted by name");

    assertEquals(List.of("node-a"), JSON.convertValue(status.path("members"), List.class));
    assertEquals("alone", batch.path("share_mode").asText(), "no cluster: section");
    assertEquals(1, batch.path("fleet_members").asInt());
    assertEquals(0.0, batch.path("demand_ru_per_sec").asDouble());
    assertFalse(status.path("fleet").path("enabled").asBoolean(true));
    JsonNode noGate = status.path("priority_gate");
    assertEquals(0, noGate.path("max_inflight").asInt(-1), "no codel: section, no gate: " + noGate);
    assertEquals(0, noGate.path("reserve_high").asInt(-1), noGate.toString());

    // a reload that adds the gate, then one that changes only reserve_high (retuned in place)
    ProxyConfig base = TestRuntime.config(TestRuntime.groups());
    for (int reserve : new int[] {1, 3}) {
      rt.gateway().reconfigure(new ProxyConfig(base.server(), base.admin(), base.listeners(), base.clusters(),
          base.resourceGroups(), base.tenants(), base.fleet(),
          Optional.of(new CodelConfig(100, 100, 4, 64, 500).withReserveHigh(reserve))), 5 + reserve);
      JsonNode gate = JSON.readTree(get("/api/status").body()).path("priority_gate");
      assertEquals(4, gate.path("max_inflight").asInt(), gate.toString());
      assertEquals(reserve, gate.path("reserve_high").asInt(), gate.toString());
      assertEquals(0, gate.path("inflight").asInt(-1), gate.toString());
      assertEquals(0, gate.path("queued").asInt(-1), gate.toString());
    }
  }

  @Test
  void statusMeasuresRuPerSecondOverTheLastSeconds() throws Exception {
    ResourceGroup def = rt.gateway.groups().get("default");
    get("/api/status");
    double before = def.ruChargedTotal();
    for (int i = 0; i < 10; i++) {
      rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    }
    double charged = def.ruChargedTotal() - before;
    assertTrue(charged > 0);
    rt.clock.advanceMillis(5000 - 20);

    JsonNode status = JSON.readTree(get("/api/status").body());
    assertEquals(charged / 5.0, groupNamed(status, "default").path("ru_per_sec").asDouble(), 0.001);
    assertEquals(0.0, groupNamed(status, "batch").path("ru_per_sec").asDouble());
  }

  @Test
  void fingerprintsListTheCostliestShapes() throws Exception {
    rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    rt.complete("app", "GET ?", 2, 1024, Outcome.OK);
    rt.complete("app", "HGETALL ?", 8, 10240, Outcome.OK);

    HttpResponse<String> r = get("/api/fingerprints?top=1");
    assertEquals(200, r.statusCode());
    JsonNode top = JSON.readTree(r.body());
    assertEquals(1, top.size());
    JsonNode f = top.get(0);
    // HGETALL: 1 + 10240/1024 + 0.5 * 8 = 15 RU; the two GETs: 3 RU each.
    assertEquals("HGETALL ?", f.path("fingerprint").asText());
    assertEquals("redis", f.path("protocol").asText());
    assertEquals(1, f.path("count").asLong());
    assertEquals(15.0, f.path("ru_total").asDouble());
    assertEquals(15.0, f.path("ru_mean").asDouble());
    assertEquals(8.0, f.path("latency_ms").path("p50").asDouble(), 8.0 * 0.2);
    assertEquals(8.0, f.path("latency_ms").path("p99").asDouble(), 8.0 * 0.2);
    assertEquals(8.0, f.path("latency_ms").path("p999").asDouble(), 8.0 * 0.2);

    JsonNode all = JSON.readTree(get("/api/fingerprints").body());
    assertEquals(2, all.size());
    assertEquals("GET ?", all.get(1).path("fingerprint").asText());
    assertEquals(2, all.get(1).path("count").asLong());
    assertEquals(3.0, all.get(1).path("ru_mean").asDouble());
    assertEquals(2, JSON.readTree(get("/api/fingerprints?top=5000").body()).size(), "top is capped, not refused");
    assertEquals(400, get("/api/fingerprints?top=abc").statusCode());
    assertEquals(400, get("/api/fingerprints?top=0").statusCode());
  }

  @Test
  void reloadAnswersWithTheGenerationOrTheErrors() throws Exception {
    reloads.add(ReloadResult.applied(2));
    reloads.add(ReloadResult.refused(2, List.of("proxy.yaml:3:5: ru_per_sec: -5 (expected: > 0)")));

    HttpResponse<String> ok = post("/api/reload");
    assertEquals(200, ok.statusCode());
    assertEquals(JSON.readTree("{\"ok\":true,\"generation\":2}"), JSON.readTree(ok.body()));

    HttpResponse<String> bad = post("/api/reload");
    assertEquals(400, bad.statusCode());
    JsonNode body = JSON.readTree(bad.body());
    assertFalse(body.path("ok").asBoolean(true));
    assertEquals("proxy.yaml:3:5: ru_per_sec: -5 (expected: > 0)", body.path("errors").get(0).asText());

    HttpResponse<String> broken = post("/api/reload");
    assertEquals(500, broken.statusCode(), "the action threw: no more results queued");
    assertFalse(JSON.readTree(broken.body()).path("ok").asBoolean(true));
  }

  @Test
  void unknownPathsAndWrongMethods() throws Exception {
    assertEquals(404, get("/nope").statusCode());
    assertEquals(404, get("/metrics/extra").statusCode());

    HttpResponse<String> getReload = get("/api/reload");
    assertEquals(405, getReload.statusCode());
    assertEquals("POST", getReload.headers().firstValue("allow").orElseThrow());
    HttpResponse<String> postMetrics = post("/metrics");
    assertEquals(405, postMetrics.statusCode());
    assertEquals("GET, HEAD", postMetrics.headers().firstValue("allow").orElseThrow());
    HttpResponse<String> delete = client.send(request("/api/status").DELETE().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, delete.statusCode());
  }

  @Test
  void indexPageLinksTheApi() throws Exception {
    HttpResponse<String> r = get("/");
    assertEquals(200, r.statusCode());
    assertEquals("text/html; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
    assertTrue(r.body().contains("<title>mproxy</title>"), r.body());
    for (String link : List.of("/api/status", "/metrics", "/api/fingerprints")) {
      assertTrue(r.body().contains("href=\"" + link + "\""), link);
    }
  }

  @Test
  void headAnswersWithoutABody() throws Exception {
    rt.ready(true);
    HttpResponse<String> r = client.send(request("/healthz").method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertEquals("", r.body());
    assertEquals("3", r.headers().firstValue("content-length").orElseThrow());
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
    rt.ready(true);
    try (Socket s = new Socket("127.0.0.1", server.boundPort())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      // The status answer is computed off the event loop; the health answer after it must wait for it.
      out.write(("GET /api/status HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String all = readToEnd(s.getInputStream());
      int status = all.indexOf("HTTP/1.1 200 OK");
      int health = all.indexOf("ok\n");
      int notFound = all.indexOf("HTTP/1.1 404 Not Found");
      assertTrue(status >= 0 && all.indexOf("\"version\"") > status, all);
      assertTrue(health > all.indexOf("\"version\""), all);
      assertTrue(notFound > health, all);
      assertTrue(all.contains("connection: close"), all);
    }
  }

  @Test
  void malformedRequestGets400AndTheConnectionCloses() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.boundPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("THIS IS NOT HTTP\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = readToEnd(s.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request"), answer);
      assertTrue(answer.contains("connection: close"), answer);
    }
  }

  @Test
  void oversizedBodyIsRefused() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.boundPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(("POST /api/reload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String answer = readToEnd(s.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
    }
    assertTrue(reloads.isEmpty() && server.boundPort() > 0);
  }

  @Test
  void bindsOnlyTheConfiguredAddressAndRefusesABusyPort() throws Exception {
    assertTrue(server.boundPort() > 0);
    AdminServer second = new AdminServer(new AdminConfig(new HostPort("127.0.0.1", server.boundPort())), rt,
        rt.registry, gauges, () -> ReloadResult.applied(1), group);
    try {
      assertThrows(IOException.class, second::start);
    } finally {
      second.close();
    }
  }

  private static JsonNode groupNamed(JsonNode status, String name) {
    for (JsonNode g : status.path("resource_groups")) {
      if (name.equals(g.path("name").asText())) {
        return g;
      }
    }
    throw new AssertionError("no group " + name + " in " + status);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.boundPort() + path))
        .timeout(Duration.ofSeconds(10));
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path) throws Exception {
    return client.send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    in.transferTo(buf);
    return buf.toString(StandardCharsets.UTF_8);
  }
}

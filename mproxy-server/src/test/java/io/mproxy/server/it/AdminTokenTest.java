package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A running daemon with {@code admin.token} set answers every admin endpoint but
 * {@code /healthz} with 401 unless the request carries the bearer token, and never shows a
 * configured password (listener users, backend credentials) or the token in its answers. Bound
 * to loopback (tests stay on loopback); the rule that a non-loopback bind needs a token is
 * tested in {@code AdminSecurityConfigTest}.
 */
class AdminTokenTest {

  private static final String TOKEN = "admin-token-0123456789abcdef";
  private static final String USER_PASSWORD = "listener-user-pw-7781";
  private static final String BACKEND_PASSWORD = "backend-pw-5523";
  private static final List<String> PROTECTED = List.of("/metrics", "/api/status",
      "/api/fingerprints?top=5", "/", "/api/usage", "/no-such-endpoint");

  private static RedisServer redis;
  private static ProxyFixture proxy;
  private static HttpClient http;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.builder().requirePass(BACKEND_PASSWORD).start();
    String yaml = ProxyConfigText.forBackend(redis.address())
        .withListener("auth: { mode: terminate, users: [ { name: app, password: " + USER_PASSWORD
            + " } ] }")
        .withCluster("credentials: { password: " + BACKEND_PASSWORD + " }")
        .render();
    String withToken = yaml.replace("admin: { bind: 127.0.0.1:0 }",
        "admin: { bind: 127.0.0.1:0, token: " + TOKEN + " }");
    if (withToken.equals(yaml)) {
      throw new AssertionError("the test config has no admin line to add the token to:\n" + yaml);
    }
    proxy = ProxyFixture.startYaml(withToken, ProxyConfigText.LISTENER);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterAll
  static void stop() throws Exception {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy, then backend
    }
  }

  @Test
  void healthzNeedsNoToken() throws Exception {
    assertEquals(200, get("/healthz", null).statusCode());
  }

  @Test
  void everyOtherEndpointRefusesAMissingOrWrongToken() throws Exception {
    for (String path : PROTECTED) {
      HttpResponse<String> none = get(path, null);
      assertEquals(401, none.statusCode(), path);
      assertEquals("Bearer realm=\"mproxy-admin\"",
          none.headers().firstValue("WWW-Authenticate").orElse(""), path);
      assertEquals(401, get(path, "Bearer wrong-token-0123456789abcdef").statusCode(), path);
      assertEquals(401, get(path, TOKEN).statusCode(), path + " (no Bearer scheme)");
      assertEquals(401, get(path, "Basic " + TOKEN).statusCode(), path);
    }
    assertEquals(401, send(HttpRequest.newBuilder(uri("/api/reload"))
        .POST(HttpRequest.BodyPublishers.noBody()), null).statusCode());
  }

  @Test
  void theRightTokenIsServed() throws Exception {
    assertEquals(200, get("/api/status", "Bearer " + TOKEN).statusCode());
    assertEquals(200, get("/metrics", "Bearer " + TOKEN).statusCode());
    assertEquals(200, get("/", "Bearer " + TOKEN).statusCode());
    assertEquals(404, get("/no-such-endpoint", "Bearer " + TOKEN).statusCode());
    assertEquals(200, send(HttpRequest.newBuilder(uri("/api/reload"))
        .POST(HttpRequest.BodyPublishers.noBody()), "Bearer " + TOKEN).statusCode());
  }

  @Test
  void statusAndMetricsNeverShowAPasswordOrTheToken() throws Exception {
    for (String path : List.of("/api/status", "/metrics", "/api/fingerprints?top=50", "/")) {
      HttpResponse<String> r = get(path, "Bearer " + TOKEN);
      assertEquals(200, r.statusCode(), path);
      for (String secret : List.of(USER_PASSWORD, BACKEND_PASSWORD, TOKEN)) {
        assertFalse(r.body().contains(secret), path + " shows a secret");
      }
    }
    assertTrue(get("/api/status", "Bearer " + TOKEN).body().contains("\"listeners\""),
        "the status is a real one");
  }

  private static URI uri(String path) {
    return URI.create("http://" + ProxyFixture.HOST + ":" + proxy.adminPort() + path);
  }

  private static HttpResponse<String> get(String path, String authorization) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET(), authorization);
  }

  private static HttpResponse<String> send(HttpRequest.Builder request, String authorization)
      throws Exception {
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs a proxy whose config holds client and backend passwords, at DEBUG, with JSON logs and the
 * access log on for every request, drives real authentication traffic through it (RESP AUTH and
 * HELLO AUTH, right and wrong passwords, redis-cli with --pass, a reload), and asserts that the
 * console output holds access lines for that traffic and none of the passwords.
 */
class SecretsNeverLoggedTest {

  private static final String BACKEND_PASSWORD = "backend-secret-7f3a";
  private static final String CLIENT_PASSWORD = "client-secret-91bc";
  private static final String OTHER_PASSWORD = "reporter-secret-2d44";
  private static final String WRONG_PASSWORD = "wrong-guess-5e6f";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void passwordsNeverReachTheLogsWhileTheAccessLogRecordsTheTraffic() throws Exception {
    String text;
    try (RedisServer redis = RedisServer.builder().requirePass(BACKEND_PASSWORD).start();
        CapturedConsole console = new CapturedConsole();
        PackagedLogback logback = new PackagedLogback()) {
      String yaml = ProxyConfigText.forBackend(redis.address())
          .withListener("auth: { mode: terminate, users: [ { name: app, password: " + CLIENT_PASSWORD + " },"
              + " { name: reporter, password: " + OTHER_PASSWORD + " } ] }")
          .withCluster("credentials: { password: " + BACKEND_PASSWORD + " }")
          .render()
          + "logging: { format: json, level: debug, access_log: { enabled: true, sample_ratio: 1.0 } }\n";
      try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER)) {
        try (RespConnection c = proxy.connect()) {
          assertTrue(c.call("AUTH", "app", WRONG_PASSWORD) instanceof RespConnection.RespError);
          assertEquals("OK", c.call("AUTH", "app", CLIENT_PASSWORD));
          assertEquals("OK", c.call("SET", "secrets:k", "v"));
          assertEquals("v", c.call("GET", "secrets:k"));
        }
        try (RespConnection c = proxy.connect()) {
          c.call("HELLO", "3", "AUTH", "reporter", OTHER_PASSWORD);
          assertEquals("v", c.call("GET", "secrets:k"));
        }
        assertEquals("PONG", RedisServer.cliAt("127.0.0.1", proxy.port(), "--user", "app", "--pass",
            CLIENT_PASSWORD, "--no-auth-warning", "PING"));
        proxy.rewriteConfig(yaml.replace("sample_ratio: 1.0", "sample_ratio: 1"));
        assertEquals(200, proxy.post("/api/reload").status(), "the reload is applied");
        Eventually.assertWithin(Duration.ofSeconds(10), () -> assertTrue(
            accessLines(console.text()).size() >= 3, "access lines so far: " + accessLines(console.text())));
      }
      text = console.text();
    }
    for (String secret : List.of(BACKEND_PASSWORD, CLIENT_PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD)) {
      assertFalse(text.contains(secret), "the log output contains the password " + secret + ":\n" + text);
    }
    List<JsonNode> access = accessLines(text);
    assertTrue(access.stream().anyMatch(a -> "app".equals(kv(a, "user")) && "ok".equals(kv(a, "outcome"))
        && "redis".equals(kv(a, "listener")) && kv(a, "fingerprint") != null && kv(a, "group") != null),
        "an access line names the tenant, group, fingerprint and outcome: " + access);
    assertTrue(text.lines().anyMatch(l -> l.contains("\"logger\":\"io.mproxy.") || l.contains("\"loggerName\":\"io.mproxy.")),
        "the daemon's own lines are JSON too:\n" + text);
  }

  /** The JSON access-log lines: one object per line with logger mproxy.access. */
  private static List<JsonNode> accessLines(String text) {
    List<JsonNode> out = new ArrayList<>();
    for (String line : text.lines().toList()) {
      if (!line.startsWith("{") || !line.contains("mproxy.access")) {
        continue;
      }
      try {
        out.add(JSON.readTree(line));
      } catch (java.io.IOException e) {
        throw new AssertionError("not JSON: " + line, e);
      }
    }
    return out;
  }

  /** A key's value in a JsonEncoder line's {@code kvpList} (a list of one-entry objects). */
  private static String kv(JsonNode line, String key) {
    JsonNode list = line.get("kvpList");
    if (list == null) {
      return null;
    }
    for (JsonNode pair : list) {
      if (pair.has(key)) {
        return pair.get(key).asText();
      }
    }
    return null;
  }
}

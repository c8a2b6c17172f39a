package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reloading the configuration while clients are connected: a raised limit applies to a
 * connection that was open all along; an invalid file is refused with {@code FILE:LINE:COL}
 * errors and changes nothing, not even the valid parts of it; the file watcher picks up an edit
 * without being asked.
 */
class HotReloadTest {

  private static final int FLOOD = 100;

  private static RedisServer redis;

  @BeforeAll
  static void startBackend() {
    redis = RedisServer.start();
    redis.cli("SET", "small", "v");
  }

  @AfterAll
  static void stopBackend() {
    redis.close();
  }

  private static ProxyConfigText withLimit(ProxyConfigText base, String ruPerSec) {
    return base.withGroup("limited", "{ ru_per_sec: " + ruPerSec + ", burst: " + ruPerSec + ", on_exhausted: reject }")
        .withTenant("{ match: { application: flooder }, group: limited }");
  }

  @Test
  void raisedLimitAppliesToOpenConnectionsAndAnInvalidFileChangesNothing() throws Exception {
    ProxyConfigText base = ProxyConfigText.forBackend(redis.address());
    try (ProxyFixture proxy = ProxyFixture.start(withLimit(base, "20"));
        RespConnection flooder = proxy.connect()) {
      assertEquals("OK", flooder.call("CLIENT", "SETNAME", "flooder"));
      assertTrue(refusedOf(flooder) > 0, "100 GETs at once exceed 20 RU");
      long generation = proxy.status().path("generation").asLong();
      double reloadErrorsBefore = proxy.metrics().sum("mproxy_config_reloads_total", "result", "error");

      // An invalid file whose other part raises the limit: refused as a whole.
      String invalid = withLimit(base, "100000").withGroup("broken", "{ ru_per_sec: -5 }").render();
      proxy.rewriteConfig(invalid);
      ProxyFixture.Http refused = proxy.post("/api/reload");
      assertEquals(400, refused.status(), refused.body());
      JsonNode errors = refused.json().path("errors");
      int line = lineOf(invalid, "broken:");
      Pattern fileLineCol = Pattern.compile(Pattern.quote(proxy.configFile().toString()) + ":" + line
          + ":\\d+: .*ru_per_sec: -5 \\(expected: > 0\\).*");
      assertTrue(errors.size() >= 1 && fileLineCol.matcher(errors.get(0).asText()).matches(),
          "errors name FILE:LINE:COL and the problem: " + errors);
      assertEquals(generation, refused.json().path("generation").asLong());
      assertEquals(generation, proxy.status().path("generation").asLong(), "the running config stays");
      assertEquals(20.0, proxy.groupStatus("limited").path("limit_ru_per_sec").asDouble());
      assertTrue(refusedOf(flooder) > 0, "the old, low limit still applies");
      assertEquals(reloadErrorsBefore + 1, proxy.metrics().sum("mproxy_config_reloads_total", "result", "error"),
          "mproxy_config_reloads_total{result=\"error\"} counts the refused reload");

      // The same raise in a valid file: applied, on the connection that stayed open.
      double reloadsOkBefore = proxy.metrics().sum("mproxy_config_reloads_total", "result", "ok");
      proxy.rewriteConfig(withLimit(base, "100000").render());
      ProxyFixture.Http applied = proxy.post("/api/reload");
      assertEquals(200, applied.status(), applied.body());
      assertTrue(applied.json().path("ok").asBoolean(), applied.body());
      assertEquals(generation + 1, applied.json().path("generation").asLong());
      assertEquals(generation + 1, proxy.status().path("generation").asLong());
      assertEquals(100000.0, proxy.groupStatus("limited").path("limit_ru_per_sec").asDouble());
      Eventually.assertWithin(Duration.ofSeconds(5),
          () -> assertEquals(0, refusedOf(flooder), "no refusals under the raised limit, same connection"));
      assertEquals(reloadsOkBefore + 1, proxy.metrics().sum("mproxy_config_reloads_total", "result", "ok"));

      // Another invalid file now keeps the raised limit.
      proxy.rewriteConfig(withLimit(base, "-5").render());
      assertEquals(400, proxy.post("/api/reload").status());
      assertEquals(generation + 1, proxy.status().path("generation").asLong());
      assertEquals(0, refusedOf(flooder), "the raised limit keeps working after a refused reload");
    }
  }

  @Test
  void fileWatcherReloadsAnEditedFile() throws Exception {
    ProxyConfigText base = ProxyConfigText.forBackend(redis.address()).withServer("{ watch_config: true }");
    try (ProxyFixture proxy = ProxyFixture.start(withLimit(base, "20"));
        RespConnection flooder = proxy.connect()) {
      assertEquals("OK", flooder.call("CLIENT", "SETNAME", "flooder"));
      assertTrue(refusedOf(flooder) > 0, "100 GETs at once exceed 20 RU");
      long generation = proxy.status().path("generation").asLong();

      proxy.rewriteConfig(withLimit(base, "100000").render());
      Eventually.assertWithin(Duration.ofSeconds(10), () -> {
        assertEquals(generation + 1, proxy.status().path("generation").asLong());
        assertEquals(100000.0, proxy.groupStatus("limited").path("limit_ru_per_sec").asDouble());
      });
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals(0, refusedOf(flooder)));

      // an invalid edit is refused by the watcher too, and counted
      proxy.rewriteConfig(withLimit(base, "-5").render());
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(1.0, proxy.metrics().sum("mproxy_config_reloads_total", "result", "error")));
      assertEquals(generation + 1, proxy.status().path("generation").asLong());
      assertEquals(0, refusedOf(flooder));
    }
  }

  /** Sends {@value #FLOOD} pipelined GETs; returns how many were refused with the mproxy: error. */
  private static int refusedOf(RespConnection c) throws IOException {
    for (int i = 0; i < FLOOD; i++) {
      c.write("GET", "small");
    }
    c.flush();
    int refused = 0;
    List<Object> replies = c.read(FLOOD);
    for (Object reply : replies) {
      if (reply instanceof RespError e) {
        assertTrue(e.startsWith("mproxy: rejected group=limited reason=ru_limit"), e.message());
        refused++;
      } else {
        assertEquals("v", reply);
      }
    }
    return refused;
  }

  private static int lineOf(String text, String needle) {
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(needle)) {
        return i + 1;
      }
    }
    throw new AssertionError(needle + " not in:\n" + text);
  }
}

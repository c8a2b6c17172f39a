package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The per-backend circuit breaker with two real Redis servers behind the proxy: when one is
 * killed its circuit opens ({@code /api/status} and {@code mproxy_backend_circuit_state} say
 * so) and every command goes to the other; after a restart a half-open probe closes it and it
 * takes traffic again. With both down the proxy refuses with {@code reason=circuit_open}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RedisCircuitBreakerTest {

  private static final Duration WITHIN = Duration.ofSeconds(20);

  private static RedisServer a;
  private static RedisServer b;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    a = RedisServer.start();
    b = RedisServer.start();
    String yaml = ProxyConfigText.forBackend(a.address())
        .withCluster("pool: { min_idle: 1, max_size: 4, connect_timeout_ms: 1000, acquire_timeout_ms: 1000 }")
        .withCluster("circuit: { error_rate: 0.5, min_requests: 3, window_ms: 5000, open_ms: 1500,"
            + " half_open_probes: 1 }")
        .render()
        .replace("      - { address: " + a.address() + ", role: primary }\n",
            "      - { address: " + a.address() + ", role: primary }\n"
                + "      - { address: " + b.address() + ", role: primary }\n");
    proxy = ProxyFixture.startYaml(yaml, ProxyConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (RedisServer x = a; RedisServer y = b; ProxyFixture p = proxy) {
      // proxy first, then the backends
    }
  }

  @Test
  void aKilledBackendsCircuitOpensTrafficMovesAndAProbeClosesItAfterRestart() throws Exception {
    try (RespConnection c = proxy.connect()) {
      for (int i = 0; i < 200; i++) {
        assertEquals("OK", c.call("SET", "cb:" + i, "v"));
      }
      assertTrue(backend(a).path("completed").asLong() > 0 && backend(b).path("completed").asLong() > 0,
          "P2C spreads commands over both: " + proxy.status());
      assertEquals("closed", backend(a).path("circuit").asText());
      assertEquals("enforce", backend(a).path("circuit_mode").asText());

      a.stop();
      Eventually.assertWithin(WITHIN, () -> {
        call(c, "GET", "cb:1");
        assertEquals("open", backend(a).path("circuit").asText(), proxy.status().toString());
      });
      assertEquals(2, proxy.metrics().sum("mproxy_backend_circuit_state", "backend", a.address()));
      assertEquals(0, proxy.metrics().sum("mproxy_backend_circuit_state", "backend", b.address()));

      long onB = backend(b).path("completed").asLong();
      for (int i = 0; i < 100; i++) {
        assertEquals("OK", c.call("SET", "cb:open:" + i, "v"), "every command goes to the other backend");
      }
      assertTrue(backend(b).path("completed").asLong() >= onB + 100);

      a.restart();
      Eventually.assertWithin(WITHIN, () -> {
        assertEquals("OK", call(c, "SET", "cb:again", "v"));
        assertEquals("closed", backend(a).path("circuit").asText(), proxy.status().toString());
      });
      long onA = backend(a).path("completed").asLong();
      Eventually.assertWithin(WITHIN, () -> {
        assertEquals("OK", call(c, "SET", "cb:after", "v"));
        assertTrue(backend(a).path("completed").asLong() > onA, "the restarted backend takes traffic again");
      });
      assertTrue(backend(a).path("circuit_opened").asLong() >= 1);
    }
  }

  @Test
  void withEveryCircuitOpenCommandsAreRefusedWithCircuitOpen() throws Exception {
    try (RespConnection c = proxy.connect()) {
      assertEquals("OK", c.call("SET", "cb:x", "v"));
      a.stop();
      b.stop();
      try {
        Eventually.assertWithin(WITHIN, () -> {
          Object reply = call(c, "GET", "cb:x");
          assertTrue(reply instanceof RespConnection.RespError e && e.message().contains("reason=circuit_open"),
              "reply " + reply);
        });
        Object reply = call(c, "GET", "cb:x");
        assertTrue(reply instanceof RespConnection.RespError e && e.message().startsWith("mproxy: rejected"),
            "reply " + reply);
        assertTrue(proxy.metrics().sum("mproxy_shed_total", "reason", "circuit_open") >= 1);
      } finally {
        a.restart();
        b.restart();
      }
      Eventually.assertWithin(WITHIN, () -> assertEquals("v2", setGet(c)));
    }
  }

  private static Object setGet(RespConnection c) {
    call(c, "SET", "cb:y", "v2");
    return call(c, "GET", "cb:y");
  }

  private static Object call(RespConnection c, String... args) {
    try {
      return c.call(args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode backend(RedisServer server) {
    for (JsonNode cluster : proxy.status().path("clusters")) {
      for (JsonNode backend : cluster.path("backends")) {
        if (backend.path("address").asText().equals(server.address())) {
          return backend;
        }
      }
    }
    throw new AssertionError("no backend " + server.address() + " in " + proxy.status());
  }
}

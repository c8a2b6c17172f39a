package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.RedisServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Untrusted bytes: a malformed command gets {@code -ERR Protocol error…} and its connection is
 * closed, like redis-server does; the proxy and its other clients carry on. The listener accepts
 * frames of at most 1 MB.
 */
class MalformedRespTest {

  private static final Duration CLOSE_BOUND = Duration.ofSeconds(5);

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address()).withListener("max_frame_bytes: 1mb"));
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "*1\\r\\n$-5\\r\\n",            // negative bulk length
      "*1\\r\\n$abc\\r\\n",           // bulk length not a number
      "*abc\\r\\n",                   // array length not a number
      "*1\\r\\n$2000000\\r\\n",       // bulk past max_frame_bytes (1 MB)
      "*2000000000\\r\\n",            // absurd argument count
      "*1\\r\\n+PING\\r\\n",          // not a bulk string inside a command
      "*1\\r\\n$4\\r\\nPINGxx\\r\\n", // payload longer than announced
  })
  void malformedCommandGetsProtocolErrorAndItsConnectionIsClosed(String escaped) throws Exception {
    byte[] bytes = escaped.replace("\\r", "\r").replace("\\n", "\n").getBytes(StandardCharsets.ISO_8859_1);
    try (RespConnection bystander = proxy.connect(); RespConnection bad = proxy.connect()) {
      assertEquals("OK", bystander.call("SET", "malformed:bystander", "alive"));

      bad.writeRaw(bytes);
      bad.flush();
      bad.readTimeout(CLOSE_BOUND);
      String line = bad.readRawLine();
      assertNotNull(line, "an error reply before the close");
      assertTrue(line.startsWith("-ERR Protocol error"), "reply: " + line);
      assertTrue(bad.closedByPeerWithin(CLOSE_BOUND), "the proxy closes the connection after a protocol error");

      assertEquals("alive", bystander.call("GET", "malformed:bystander"), "a client connected meanwhile is unaffected");
    }
    try (RespConnection after = proxy.connect()) {
      assertEquals("PONG", after.call("PING"), "new clients are served");
    }
  }
}

package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.PromScrape;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regression tests for three gaps the first round of PostgreSQL tests found: a start-up length
 * below 8 must be refused from its 4 length bytes, an unknown message type must end the session
 * at the proxy (not reach the pooled server), and pgjdbc's post-login SET application_name must
 * select the tenant's group.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgProtocolEdgesTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withListener("auth_method: md5")
        .withGroup("from_set", PgConfigText.DEFAULT_GROUP)
        .withTenant("{ match: { application: reporting-set }, group: from_set }")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  /** PostgreSQL refuses a start-up length below 8 as soon as it has read the 4 length bytes. */
  @Test
  void aFourByteStartupLengthBelowTheMinimumIsRefusedAtOnce() throws Exception {
    try (PgWire wire = PgWire.connect(proxy.port())) {
      wire.send(ByteBuffer.allocate(4).putInt(3).array());
      PgMalformedInputTest.assertErrorThenClose(wire); // today: waits for 4 more bytes (read times out)
    }
  }

  /** An unknown message type is refused by the proxy, not forwarded to a pooled server connection. */
  @Test
  void anUnknownMessageTypeIsNotForwardedToTheServer() throws Exception {
    try (PgWire wire = PgWire.connect(proxy.port())) {
      wire.loginMd5("app", "secret", "app");
      assertEquals("1", wire.simpleQuery("SELECT 1"));
      wire.send(new byte[] {'z', 0, 0, 0, 4});
      PgMalformedInputTest.assertErrorThenClose(wire);
    }
    assertFalse(pg.log().contains("invalid frontend message type"),
        "the server saw the client's garbage (and the pooled connection died): " + pg.log());
  }

  /** pgjdbc's default: SET application_name after login; tenant rules on application should see it. */
  @Test
  void pgjdbcDefaultSetApplicationNameSelectsTheGroup() throws Exception {
    PromScrape before = proxy.metrics();
    try (Connection c = PgClients.connect(proxy.port(), "app", "secret", Map.of("ApplicationName", "reporting-set"))) {
      assertEquals("reporting-set", PgClients.queryOne(c, "SHOW application_name"));
      for (int i = 1; i < 10; i++) {
        assertEquals(Integer.toString(i), PgClients.queryOne(c, "SELECT " + i));
      }
    }
    PromScrape after = proxy.metrics();
    double counted = after.sum("mproxy_requests_total", "group", "from_set")
        - before.sum("mproxy_requests_total", "group", "from_set");
    assertTrue(counted >= 9, "queries after SET application_name counted in group from_set: " + counted);
  }
}

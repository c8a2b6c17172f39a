package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.PostgresServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Malformed bytes from one client, before and after login: the proxy answers with an
 * ErrorResponse or closes that connection, within the raw client's 10 s read timeout (never
 * hangs waiting for a length it will not accept), and a normal client connected all along is
 * unaffected. The listener uses md5 so that the raw client can log in without SCRAM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgMalformedInputTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;
  private static Connection bystander;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withListener("auth_method: md5")
        .withListener("max_frame_bytes: 1mb")
        .render(), PgConfigText.LISTENER);
    bystander = PgClients.app(proxy.port());
  }

  @AfterAll
  static void stop() throws Exception {
    try (PostgresServer p = pg; ProxyFixture x = proxy; Connection b = bystander) {
      // the bystander, the proxy, then the backend
    }
  }

  @AfterEach
  void othersAreUnaffected() throws Exception {
    assertEquals("still here", PgClients.queryOne(bystander, "SELECT 'still here'"));
    try (Connection fresh = PgClients.app(proxy.port())) {
      assertEquals("new", PgClients.queryOne(fresh, "SELECT 'new'"));
    }
  }

  @Test
  void startupLengthBelowTheMinimum() throws Exception {
    assertRefused(bytes(ByteBuffer.allocate(8).putInt(3).putInt(PgWire.PROTOCOL_3_0)));
  }

  @Test
  void startupLengthOfTwoGigabytes() throws Exception {
    assertRefused(bytes(ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(PgWire.PROTOCOL_3_0)));
  }

  @Test
  void httpInsteadOfPostgres() throws Exception {
    assertRefused("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void unsupportedProtocolMajorVersion() throws Exception {
    byte[] params = "user\0app\0database\0app\0\0".getBytes(StandardCharsets.US_ASCII);
    assertRefused(bytes(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(4 << 16).put(params)));
  }

  @Test
  void startupWithoutAUser() throws Exception {
    byte[] params = "database\0app\0\0".getBytes(StandardCharsets.US_ASCII);
    assertRefused(bytes(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(PgWire.PROTOCOL_3_0)
        .put(params)));
  }

  @Test
  void messageLengthBelowTheMinimumAfterLogin() throws Exception {
    assertRefusedAfterLogin(new byte[] {'Q', 0, 0, 0, 2});
  }

  @Test
  void messageLongerThanMaxFrameBytesAfterLogin() throws Exception {
    assertRefusedAfterLogin(bytes(ByteBuffer.allocate(5).put((byte) 'Q').putInt(0x7ffffff0)));
  }

  @Test
  void unknownMessageTypeAfterLogin() throws Exception {
    assertRefusedAfterLogin(new byte[] {'z', 0, 0, 0, 4});
  }

  private static void assertRefused(byte[] garbage) throws Exception {
    try (PgWire wire = PgWire.connect(proxy.port())) {
      wire.send(garbage);
      assertErrorThenClose(wire);
    }
  }

  private static void assertRefusedAfterLogin(byte[] garbage) throws Exception {
    try (PgWire wire = PgWire.connect(proxy.port())) {
      wire.loginMd5("app", "secret", "app");
      assertEquals("1", wire.simpleQuery("SELECT 1"), "the raw client is logged in");
      wire.send(garbage);
      assertErrorThenClose(wire);
    }
  }

  /**
   * ErrorResponses with a SQLSTATE followed by a close, or a close straight away. (After login an
   * error from the server may be followed by the proxy's own.)
   */
  static void assertErrorThenClose(PgWire wire) throws Exception {
    for (int i = 0; i < 3; i++) {
      Optional<PgWire.Message> reply = wire.readErrorOrClose();
      if (reply.isEmpty()) {
        return;
      }
      PgWire.Message message = reply.get();
      assertEquals('E', message.type(), "an ErrorResponse or a close, got " + message);
      assertTrue(message.fields().containsKey('C'), "the error has a SQLSTATE: " + message);
    }
    throw new AssertionError("three errors and the connection is still open");
  }

  private static byte[] bytes(ByteBuffer buffer) {
    return buffer.array();
  }
}

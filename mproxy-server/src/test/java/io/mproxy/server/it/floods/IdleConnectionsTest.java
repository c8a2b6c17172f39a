package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Many idle clients held at once on a Redis listener (plain NIO sockets, opened in a bounded
 * loop): every one is admitted and counted, none is closed for idling past the handshake timeout
 * (a listener without users has no login), and every one is still served afterwards. The 10,000
 * connection memory figure comes from {@code bench/floods.sh idle}, in its own JVM.
 */
class IdleConnectionsTest {

  private static final int CLIENTS = 2_000;

  @Test
  void twoThousandIdleClientsAreHeldAndAllStayServed() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml("""
            server: { watch_config: false, shutdown_grace_ms: 2000 }
            admin: { bind: 127.0.0.1:0 }
            listeners:
              - { name: idle, protocol: redis, bind: 127.0.0.1:0, cluster: c, max_client_connections: %d, handshake_timeout_ms: 500 }
            clusters:
              c: { protocol: redis, backends: [ { address: %s, role: primary } ] }
            """.formatted(CLIENTS, redis.address()), "idle")) {
      List<SocketChannel> clients = new ArrayList<>(CLIENTS);
      try {
        for (int i = 0; i < CLIENTS; i++) {
          SocketChannel ch = SocketChannel.open();
          clients.add(ch);
          ch.setOption(StandardSocketOptions.SO_LINGER, 0);
          ch.connect(new InetSocketAddress("127.0.0.1", proxy.port()));
        }
        Eventually.assertWithin(Duration.ofSeconds(30),
            () -> assertEquals(CLIENTS, FloodMetrics.clientConnections(proxy, "idle")));
        Thread.sleep(1_000); // idle past handshake_timeout_ms
        assertEquals(CLIENTS, FloodMetrics.clientConnections(proxy, "idle"), "nobody was closed while idle");
        assertEquals(0, FloodMetrics.refused(proxy, "idle", "handshake_timeout"), 0.0);
        ByteBuffer ping = ByteBuffer.wrap("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        for (SocketChannel ch : clients) {
          ch.write(ping.duplicate());
        }
        for (int i = 0; i < clients.size(); i++) {
          assertEquals("+PONG\r\n", readReply(clients.get(i), 7), "client " + i);
        }
        assertEquals(200, proxy.get("/healthz").status());
      } finally {
        for (SocketChannel ch : clients) {
          ch.close();
        }
      }
      Eventually.assertWithin(Duration.ofSeconds(30),
          () -> assertEquals(0, FloodMetrics.clientConnections(proxy, "idle")));
    }
  }

  /** Reads exactly {@code n} bytes (blocking channel; the proxy answers promptly or the test times out). */
  private static String readReply(SocketChannel ch, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    ch.socket().setSoTimeout(10_000);
    java.io.InputStream in = ch.socket().getInputStream();
    byte[] bytes = in.readNBytes(n);
    buf.put(bytes);
    return new String(bytes, StandardCharsets.US_ASCII);
  }
}

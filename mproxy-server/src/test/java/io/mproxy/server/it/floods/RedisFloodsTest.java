package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Floods against a Redis listener, through a real redis-server: a connection storm bounded by
 * {@code max_client_connections}, new connections bounded by {@code max_accepts_per_sec}, a
 * slowloris closed at {@code handshake_timeout_ms}, and password guessing blocked per source
 * address. Each refusal must be Redis's own error ({@code -ERR mproxy: ...}) followed by a close,
 * counted in the metrics, while the clients already in keep being served.
 */
class RedisFloodsTest {

  private static final int MAX_CLIENTS = 40;
  private static final int STORM = 2_000;
  private static final int ACCEPT_RATE = 20;
  private static final long HANDSHAKE_MS = 1000;
  private static final String PASSWORD = "flood-pw-1";

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start();
    String yaml = """
        server: { watch_config: false, shutdown_grace_ms: 2000 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - { name: open, protocol: redis, bind: 127.0.0.1:0, cluster: c, max_client_connections: %d, handshake_timeout_ms: %d }
          - { name: rate, protocol: redis, bind: 127.0.0.1:0, cluster: c, max_accepts_per_sec: %d }
          - name: locked
            protocol: redis
            bind: 127.0.0.1:0
            cluster: c
            handshake_timeout_ms: %d
            auth: { mode: terminate, users: [ { name: app, password: %s } ] }
          - name: guarded
            protocol: redis
            bind: 127.0.0.1:0
            cluster: c
            auth_max_failures: 3
            auth_failure_window_ms: 600000
            auth_block_ms: 600000
            auth: { mode: terminate, users: [ { name: app, password: %s } ] }
        clusters:
          c:
            protocol: redis
            backends: [ { address: %s, role: primary } ]
        """.formatted(MAX_CLIENTS, HANDSHAKE_MS, ACCEPT_RATE, HANDSHAKE_MS, PASSWORD, PASSWORD, redis.address());
    proxy = ProxyFixture.startYaml(yaml, "open");
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  private static int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  private static String ping(RawSocket s) throws Exception {
    s.write("PING\r\n");
    return s.readLine();
  }

  @Test
  void aConnectionStormIsBoundedByMaxClientConnectionsAndTheHeldClientsStayServed() throws Exception {
    List<RawSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_CLIENTS; i++) {
        RawSocket s = RawSocket.open(port("open"));
        held.add(s);
        assertEquals("+PONG", ping(s), "held client " + i);
      }
      AtomicInteger maxSeen = new AtomicInteger();
      AtomicReference<Throwable> samplerFailure = new AtomicReference<>();
      // stopped by a flag, not an interrupt: an interrupt landing in the middle of an admin request
      // surfaced as that request failing ("interrupted"), which is not the proxy's doing
      java.util.concurrent.atomic.AtomicBoolean sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread sampler = new Thread(() -> {
        try {
          while (sampling.get()) {
            maxSeen.accumulateAndGet(FloodMetrics.clientConnections(proxy, "open"), Math::max);
            Thread.sleep(20);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Throwable t) {
          samplerFailure.set(t);
        }
      }, "admin-sampler");
      sampler.start();
      ExecutorService storm = Executors.newFixedThreadPool(8);
      AtomicInteger refusedWithError = new AtomicInteger();
      List<String> odd = java.util.Collections.synchronizedList(new ArrayList<>());
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < STORM; i++) {
          done.add(storm.submit(() -> {
            try (RawSocket s = RawSocket.open(port("open"))) {
              String answer = new String(s.readToEnd(), StandardCharsets.UTF_8);
              if (answer.startsWith("-ERR mproxy: too many client connections on listener open")) {
                refusedWithError.incrementAndGet();
              } else {
                odd.add(answer);
              }
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        storm.shutdownNow();
        sampling.set(false);
        sampler.join(10_000);
      }
      if (samplerFailure.get() != null) {
        fail("the admin API failed during the storm", samplerFailure.get());
      }
      assertTrue(odd.isEmpty(), "answers other than the refusal: " + odd.subList(0, Math.min(5, odd.size())));
      assertEquals(STORM, refusedWithError.get());
      assertTrue(maxSeen.get() <= MAX_CLIENTS, "client_connections reached " + maxSeen.get());
      assertEquals(MAX_CLIENTS, FloodMetrics.clientConnections(proxy, "open"));
      assertEquals(STORM, FloodMetrics.refused(proxy, "open", "max_connections"), 0.0);
      assertEquals(200, proxy.get("/healthz").status());
      for (int i = 0; i < held.size(); i++) {
        // past handshake_timeout_ms: a listener without users has no login, so nobody is closed
        assertEquals("+PONG", ping(held.get(i)), "held client " + i + " after the storm");
      }
    } finally {
      for (RawSocket s : held) {
        s.close();
      }
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertEquals(0, FloodMetrics.clientConnections(proxy, "open")));
    try (RawSocket s = RawSocket.open(port("open"))) {
      assertEquals("+PONG", ping(s), "a new client once the others left");
    }
  }

  @Test
  void newConnectionsOverMaxAcceptsPerSecAreRefusedWithTheRedisError() throws Exception {
    int attempts = 400;
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    List<String> odd = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService storm = Executors.newFixedThreadPool(8);
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < attempts; i++) {
        done.add(storm.submit(() -> {
          try (RawSocket s = RawSocket.open(port("rate"))) {
            String answer = ping(s);
            if ("+PONG".equals(answer)) {
              accepted.incrementAndGet();
            } else if (answer != null && answer.startsWith(
                "-ERR mproxy: too many new connections on listener rate (max_accepts_per_sec=20)")) {
              refused.incrementAndGet();
              assertTrue(s.readToEnd().length == 0, "closed after the refusal");
            } else {
              odd.add(String.valueOf(answer));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      storm.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(odd.isEmpty(), "unexpected answers: " + odd);
    assertEquals(attempts, accepted.get() + refused.get());
    // the bucket holds one second's worth and refills at the rate: an upper bound whatever the load
    double bound = ACCEPT_RATE + ACCEPT_RATE * seconds + 1;
    assertTrue(accepted.get() <= bound, accepted.get() + " accepted in " + seconds + " s (bound " + bound + ")");
    assertTrue(accepted.get() >= 1 && refused.get() >= 1, accepted + " accepted, " + refused + " refused");
    assertEquals(refused.get(), FloodMetrics.refused(proxy, "rate", "accept_rate"), 0.0);
  }

  @Test
  void aSlowlorisIsClosedAtTheHandshakeTimeoutWhileALoggedInClientIdlesOn() throws Exception {
    double before = FloodMetrics.refused(proxy, "locked", "handshake_timeout");
    byte[] auth = ("*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$" + PASSWORD.length() + "\r\n" + PASSWORD + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    RedisURI uri = RedisURI.builder().withHost("127.0.0.1").withPort(port("locked"))
        .withAuthentication("app", PASSWORD.toCharArray()).withTimeout(Duration.ofSeconds(10)).build();
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> idle = client.connect();
        RawSocket slow = RawSocket.open(port("locked"))) {
      int sent = slow.trickle(auth, 100);
      String answer = new String(slow.readToEnd(), StandardCharsets.UTF_8);
      assertTrue(sent < auth.length, "the proxy let the slow client send all " + auth.length + " bytes");
      assertTrue(answer.startsWith("-ERR mproxy: login not completed within handshake_timeout_ms=1000"), answer);
      // the Lettuce client logged in at once and has idled past the timeout: still served
      assertEquals("PONG", idle.sync().ping());
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    assertEquals(before + 1, FloodMetrics.refused(proxy, "locked", "handshake_timeout"), 0.0);
  }

  @Test
  void repeatedWrongPasswordsBlockTheSourceAddressOnly() throws Exception {
    for (int i = 0; i < 3; i++) {
      try (RawSocket s = RawSocket.open(port("guarded"))) {
        s.write("AUTH app wrong-" + i + "\r\n");
        assertTrue(s.readLine().startsWith("-WRONGPASS"), "attempt " + i);
      }
    }
    try (RawSocket s = RawSocket.open(port("guarded"))) {
      s.write("AUTH app " + PASSWORD + "\r\n");
      String answer = s.readLine();
      assertTrue(answer.startsWith("-ERR mproxy: too many failed logins from 127.0.0.1; refused for "), answer);
      s.write("PING\r\n");
      assertTrue(s.readLine().startsWith("-NOAUTH"), "still not logged in");
    }
    RedisURI uri = RedisURI.builder().withHost("127.0.0.1").withPort(port("guarded"))
        .withAuthentication("app", PASSWORD.toCharArray()).withTimeout(Duration.ofSeconds(10)).build();
    RedisClient client = RedisClient.create(uri);
    try {
      Throwable t = null;
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        fail("Lettuce logged in from a blocked address");
      } catch (RuntimeException e) {
        t = e;
      }
      assertTrue(chainContains(t, "too many failed logins"), "Lettuce saw: " + t);
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    try (RawSocket other = RawSocket.open(port("guarded"), "127.0.0.2")) {
      other.write("AUTH app " + PASSWORD + "\r\n");
      assertEquals("+OK", other.readLine(), "another source address is not blocked");
      assertEquals("+PONG", ping(other));
    }
    assertEquals(3, FloodMetrics.auth(proxy, "guarded", "failed"), 0.0);
    assertTrue(FloodMetrics.auth(proxy, "guarded", "blocked") >= 2);
    assertFalse(proxy.metrics().text().contains(PASSWORD), "the password is not in the metrics");
  }

  static boolean chainContains(Throwable t, String text) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (String.valueOf(c.getMessage()).contains(text)) {
        return true;
      }
    }
    return false;
  }
}

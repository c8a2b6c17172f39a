package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.SilentBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The three faults of issue 11, the same for every protocol; a subclass supplies the real
 * backends, the YAML of a listener and a cluster, and clients made with the protocol's real
 * client library.
 *
 * <ol>
 *   <li><b>Backend killed mid-request</b>: the backend of listener {@code victim} is SIGKILLed
 *       while a slow request runs through it. That client gets the protocol's error within
 *       {@link #PROMPT} (no hang), new requests to it are refused promptly, the proxy stays
 *       healthy, a client of listener {@code other} (another backend) keeps working on the same
 *       connection, and once the backend is back new requests succeed within a bounded loop.</li>
 *   <li><b>Silent backend</b>: listener {@code silent} points at a {@link SilentBackend} (accepts,
 *       never answers): a client's login and first request end in an error within
 *       {@link #PROMPT}, bounded by {@code connect_timeout_ms} (TCP connect plus the backend
 *       handshake) and {@code acquire_timeout_ms}.</li>
 *   <li><b>SIGTERM drains</b>: a child JVM running the daemon gets SIGTERM while a slow request
 *       runs: new connections are refused, the slow request completes normally, and the process
 *       exits 0 within {@code shutdown_grace_ms}.</li>
 * </ol>
 *
 * <p>Each scenario prints one {@code [faults]} line with what it measured (for
 * docs/reliability.md). Timings are asserted only against generous upper bounds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class ProtocolFaultsContract {

  /** The most a client may wait for an error: generous, a hang is what it catches. */
  static final Duration PROMPT = Duration.ofSeconds(10);
  /** How long a restarted backend may take to serve through the proxy again. */
  static final Duration RECOVERY = Duration.ofSeconds(30);
  static final long CONNECT_TIMEOUT_MS = 2000;
  static final long ACQUIRE_TIMEOUT_MS = 3000;
  static final long SHUTDOWN_GRACE_MS = 15_000;
  static final String VICTIM = "victim";
  static final String OTHER = "other";
  static final String SILENT = "silent";

  private SilentBackend silent;
  private ProxyFixture proxy;

  // ------------------------------------------------------------------ what a protocol supplies

  /** The protocol's name in reports, e.g. {@code redis}. */
  abstract String protocol();

  /** Starts the backends: the one that is killed and restarted, and another one. */
  abstract void startBackends() throws Exception;

  abstract void stopBackends() throws Exception;

  /** {@code host:port} of the backend that is killed. */
  abstract String victimAddress();

  /** {@code host:port} of the backend that is left alone. */
  abstract String otherAddress();

  /** SIGKILLs the victim backend (with its child processes) and returns when it is gone. */
  abstract void killVictim() throws Exception;

  /** Starts the victim again on the same port; returns when it accepts connections. */
  abstract void restartVictim() throws Exception;

  /**
   * Called before {@link FaultClient#slow}: protocols without a server-side sleep freeze the
   * victim (SIGSTOP) so that the next request stays in flight. No-op by default.
   */
  void holdVictim() throws Exception {
  }

  /** Undoes {@link #holdVictim()} (SIGCONT). No-op by default. */
  void releaseVictim() throws Exception {
  }

  /** YAML lines of one listener (starting {@code - name: NAME}), indented by two spaces. */
  abstract String listenerYaml(String name, String cluster);

  /**
   * YAML lines of one cluster's body (protocol, credentials, backends, pool mode...), each
   * indented by four spaces; the contract adds {@code pool} timeouts and {@code health}.
   */
  abstract String clusterYaml(String address);

  /** The {@code pool} mapping's mode entry, e.g. {@code "mode: transaction, "}, or empty. */
  String poolMode() {
    return "";
  }

  /** Opens a client connection through the proxy listening on {@code port} (logs in). */
  abstract FaultClient connect(int port) throws Exception;

  /**
   * The listener of the other backend: the same protocol by default; a protocol whose second
   * server is too costly to start (Cassandra) may put another protocol's backend there.
   */
  String otherListenerYaml(String name, String cluster) {
    return listenerYaml(name, cluster);
  }

  /** The cluster body of the other backend; see {@link #otherListenerYaml}. */
  String otherClusterYaml(String address) {
    return clusterYaml(address);
  }

  /** A client of the other backend's listener; see {@link #otherListenerYaml}. */
  FaultClient connectOther(int port) throws Exception {
    return connect(port);
  }

  /**
   * Fails unless {@code error} is what the protocol's client library raises for a server (here:
   * proxy) error or a closed connection, as the protocol says "unavailable".
   */
  abstract void assertProtocolError(Throwable error, String when);

  // ------------------------------------------------------------------ lifecycle

  @BeforeAll
  void startAll() throws Exception {
    startBackends();
    silent = SilentBackend.start();
    proxy = ProxyFixture.startYaml(yaml(true), VICTIM);
  }

  @AfterAll
  void stopAll() throws Exception {
    slowRequests.shutdownNow();
    try (SilentBackend s = silent; ProxyFixture p = proxy) {
      stopBackends();
    }
  }

  /** Runs the blocking client calls of slow requests (daemon threads, ended after the class). */
  final ExecutorService slowRequests = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, protocol() + "-faults-slow");
    t.setDaemon(true);
    return t;
  });

  String yaml(boolean allListeners) {
    StringBuilder y = new StringBuilder();
    y.append("server: { watch_config: false, shutdown_grace_ms: ").append(SHUTDOWN_GRACE_MS).append(" }\n");
    y.append("admin: { bind: 127.0.0.1:0 }\n");
    y.append("listeners:\n");
    y.append(listenerYaml(VICTIM, VICTIM));
    if (allListeners) {
      y.append(otherListenerYaml(OTHER, OTHER));
      y.append(listenerYaml(SILENT, SILENT));
      y.append(extraListenersYaml());
    }
    y.append("clusters:\n");
    cluster(y, VICTIM, clusterYaml(victimAddress()));
    if (allListeners) {
      cluster(y, OTHER, otherClusterYaml(otherAddress()));
      cluster(y, SILENT, clusterYaml(silent.address()));
    }
    y.append("resource_groups:\n");
    y.append("  default: { ru_per_sec: 1000000, burst: 2000000, priority: normal, on_exhausted: reject }\n");
    return y.toString();
  }

  /** More listeners (YAML, indented like {@link #listenerYaml}) on the clusters above; none by default. */
  String extraListenersYaml() {
    return "";
  }

  ProxyFixture proxy() {
    return proxy;
  }

  private void cluster(StringBuilder y, String name, String body) {
    y.append("  ").append(name).append(":\n");
    y.append(body);
    y.append("    pool: { ").append(poolMode()).append("min_idle: 1, max_size: 4, connect_timeout_ms: ")
        .append(CONNECT_TIMEOUT_MS).append(", acquire_timeout_ms: ").append(ACQUIRE_TIMEOUT_MS).append(" }\n");
    y.append("    health: ").append(health()).append('\n');
  }

  /**
   * The clusters' {@code health} mapping: quick probes by default. Protocols that freeze the
   * victim in {@link #holdVictim()} probe rarely, so that no probe times out on the frozen
   * backend (and fails the request it should hold) while the test holds it.
   */
  String health() {
    return "{ interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }";
  }

  int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  // ------------------------------------------------------------------ 1. SIGKILL mid-request

  @Test
  @Order(1)
  void backendKilledMidRequestGivesThatClientAPromptErrorAndThePoolRecovers() throws Exception {
    try (FaultClient victim = connect(port(VICTIM)); FaultClient other = connectOther(port(OTHER))) {
      victim.roundTrip();
      String otherBefore = other.roundTrip();

      holdVictim();
      CompletableFuture<String> slow = victim.slow(60);
      awaitVictimInflight();

      long killed = System.nanoTime();
      killVictim();
      Throwable error = failureWithin(slow, PROMPT, "the request in flight when the backend was killed");
      long toErrorMs = millisSince(killed);
      assertProtocolError(error, "the request in flight when the backend was killed");

      long freshStart = System.nanoTime();
      Throwable fresh = freshRequestFails();
      long freshMs = millisSince(freshStart);
      assertProtocolError(fresh, "a new request while the backend is down");

      assertEquals(200, proxy.get("/healthz").status(), "the proxy stays healthy");
      assertFalse(otherBefore.isEmpty());
      other.roundTrip();
      try (FaultClient another = connectOther(port(OTHER))) {
        another.roundTrip();
      }

      long restarting = System.nanoTime();
      restartVictim();
      long restartMs = millisSince(restarting);
      long back = System.nanoTime();
      String after = recoveredAnswer();
      long recoveryMs = millisSince(back);
      other.roundTrip();
      Eventually.assertWithin(RECOVERY, () -> assertEquals("up", backend(VICTIM).path("health").asText()));
      System.out.printf(Locale.ROOT, "[faults] %s kill: in-flight request error after %d ms; new request"
              + " refused in %d ms while down; backend restart took %d ms; first ok through the proxy %d ms"
              + " after the restart (%s)%n",
          protocol(), toErrorMs, freshMs, restartMs, recoveryMs, after);
    }
  }

  // ------------------------------------------------------------------ 2. silent backend

  @Test
  @Order(2)
  void silentBackendIsBoundedByTheProxysTimeouts() throws Exception {
    long start = System.nanoTime();
    CompletableFuture<String> attempt = CompletableFuture.supplyAsync(() -> {
      try (FaultClient c = connect(port(SILENT))) {
        return c.roundTrip();
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    Throwable error = failureWithin(attempt, PROMPT.plusMillis(CONNECT_TIMEOUT_MS + ACQUIRE_TIMEOUT_MS),
        "login and a request through a silent backend");
    long ms = millisSince(start);
    assertProtocolError(error, "login and a request through a silent backend");
    assertTrue(silent.accepted() > 0, "the proxy did reach the silent backend: " + silent);
    JsonNode silentBackend = backend(SILENT);
    assertEquals("down", silentBackend.path("health").asText(), silentBackend.toString());
    assertTrue(silentBackend.path("last_error").asText().contains("no answer within " + CONNECT_TIMEOUT_MS + " ms"),
        "the handshake was cut by connect_timeout_ms: " + silentBackend);
    assertEquals(200, proxy.get("/healthz").status(), "the proxy stays healthy");
    try (FaultClient other = connectOther(port(OTHER))) {
      other.roundTrip();
    }
    System.out.printf(Locale.ROOT, "[faults] %s silent backend: client error after %d ms"
        + " (connect_timeout_ms=%d, acquire_timeout_ms=%d; %s; backend last_error: %s): %s%n",
        protocol(), ms, CONNECT_TIMEOUT_MS, ACQUIRE_TIMEOUT_MS, silent, silentBackend.path("last_error").asText(),
        oneLine(error));
  }

  // ------------------------------------------------------------------ 3. SIGTERM drains

  @Test
  @Order(3)
  void sigtermDrainsTheRequestInFlightRefusesNewConnectionsAndExitsZero() throws Exception {
    try (ChildProxy child = ChildProxy.start(yaml(false)); FaultClient client = connect(child.port())) {
      client.roundTrip();
      holdVictim();
      long sent = System.nanoTime();
      CompletableFuture<String> slow = client.slow(3);
      try {
        Eventually.assertWithin(PROMPT, () -> assertEquals(1, child.backendInflight(), "in flight at the backend"));
        child.sigterm();
        Eventually.assertWithin(PROMPT, () -> assertTrue(refused(child.port()),
            "a new connection is refused while draining"));
      } finally {
        releaseVictim();
      }
      String answer = slow.get(PROMPT.toMillis() + SHUTDOWN_GRACE_MS, TimeUnit.MILLISECONDS);
      long answeredMs = millisSince(sent);
      assertTrue(child.process().waitFor(SHUTDOWN_GRACE_MS + 5_000, TimeUnit.MILLISECONDS),
          "the child exits within shutdown_grace_ms: " + child.log());
      long exitedMs = millisSince(sent);
      assertEquals(0, child.process().exitValue(), child.log());
      assertTrue(child.log().contains("draining"), child.log());
      System.out.printf(Locale.ROOT, "[faults] %s SIGTERM: slow request answered (%s) after %d ms, process exit 0"
          + " after %d ms (shutdown_grace_ms=%d)%n", protocol(), answer, answeredMs, exitedMs, SHUTDOWN_GRACE_MS);
    }
  }

  // ------------------------------------------------------------------ helpers

  private void awaitVictimInflight() {
    Eventually.assertWithin(PROMPT, () -> assertEquals(1, backend(VICTIM).path("inflight").asInt(),
        "the slow request is at the backend"));
  }

  JsonNode backend(String cluster) {
    for (JsonNode c : proxy.status().path("clusters")) {
      if (cluster.equals(c.path("name").asText())) {
        return c.path("backends").path(0);
      }
    }
    throw new AssertionError("no cluster " + cluster + " in " + proxy.status());
  }

  /** A new client's login and request while the victim is down: must fail within PROMPT. */
  private Throwable freshRequestFails() {
    CompletableFuture<String> attempt = CompletableFuture.supplyAsync(() -> {
      try (FaultClient c = connect(port(VICTIM))) {
        return c.roundTrip();
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    return failureWithin(attempt, PROMPT, "a new request while the backend is down");
  }

  /** Fresh connections every 100 ms until one's request succeeds, for at most RECOVERY. */
  private String recoveredAnswer() throws InterruptedException {
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    Throwable last = null;
    while (System.nanoTime() - deadline < 0) {
      try (FaultClient c = connect(port(VICTIM))) {
        return c.roundTrip();
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no request succeeded within " + RECOVERY.toSeconds() + " s of the backend's"
        + " restart; last error: " + last, last);
  }

  static Throwable failureWithin(CompletableFuture<String> future, Duration bound, String what) {
    try {
      String answer = future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
      fail(what + ": answered " + answer + " instead of failing");
      return null;
    } catch (TimeoutException e) {
      future.cancel(true);
      fail(what + ": no answer within " + bound.toSeconds() + " s (a hang)");
      return null;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      return cause;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** True when a TCP connect fails, or the accepted connection is closed without being served. */
  private static boolean refused(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(2000);
      return s.getInputStream().read(new byte[1024]) == -1;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  /** The error's class and message on one line, from the proxy's {@code mproxy: } text when it has one. */
  static String oneLine(Throwable t) {
    String message = String.valueOf(t.getMessage());
    int proxyText = message.indexOf("mproxy: ");
    String s = t.getClass().getSimpleName() + ": " + (proxyText > 0 ? "…" + message.substring(proxyText) : message);
    s = s.replaceAll("\\s+", " ");
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }
}

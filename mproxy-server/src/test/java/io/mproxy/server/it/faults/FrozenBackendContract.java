package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The fourth fault, for the protocols whose only request deadline used to be a hinted one
 * (Redis, MongoDB, Cassandra): a backend that logs in and then stops answering (SIGSTOP).
 * Listener {@code deadline} of the victim's cluster has {@code query_timeout_ms}; a client that
 * logged in through it sends a request while the victim is frozen and must get the protocol's
 * {@code mproxy: timeout} error within {@link #PROMPT}, the proxy stays healthy, another backend's
 * client is untouched, and after SIGCONT the same client's next request is answered.
 */
abstract class FrozenBackendContract extends ProtocolFaultsContract {

  static final String DEADLINE = "deadline";
  static final long QUERY_TIMEOUT_MS = 500;

  /** The protocol's listener {@code name} on {@code cluster} with {@code query_timeout_ms: ms}. */
  abstract String deadlineListenerYaml(String name, String cluster, long queryTimeoutMs);

  /** Freezes the victim backend (SIGSTOP): it keeps its connections and answers nothing. */
  abstract void freezeVictim() throws Exception;

  /** Undoes {@link #freezeVictim()} (SIGCONT). */
  abstract void thawVictim() throws Exception;

  /** Fails unless {@code error} is the protocol's timeout error from the proxy, naming {@code setting}. */
  abstract void assertTimeoutError(Throwable error, String setting, String when);

  @Override
  String extraListenersYaml() {
    return deadlineListenerYaml(DEADLINE, VICTIM, QUERY_TIMEOUT_MS);
  }

  @Test
  @Order(4)
  void aBackendThatStopsAnsweringAfterLoginIsBoundedByQueryTimeout() throws Exception {
    try (FaultClient client = connect(port(DEADLINE))) {
      client.roundTrip();
      long toErrorMs;
      Throwable error;
      freezeVictim();
      try {
        long sent = System.nanoTime();
        CompletableFuture<String> frozen = CompletableFuture.supplyAsync(() -> {
          try {
            return client.roundTrip();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        }, slowRequests);
        error = failureWithin(frozen, PROMPT, "a request to a backend frozen after login");
        toErrorMs = millisSince(sent);
        assertTimeoutError(error, "query_timeout_ms=" + QUERY_TIMEOUT_MS, "a request to a backend frozen after login");
        assertTrue(toErrorMs >= QUERY_TIMEOUT_MS - 50, "not before query_timeout_ms: " + toErrorMs + " ms");
        assertEquals(200, proxy().get("/healthz").status(), "the proxy stays healthy");
        try (FaultClient other = connectOther(port(OTHER))) {
          other.roundTrip();
        }
      } finally {
        thawVictim();
      }
      long thawed = System.nanoTime();
      String after = answeredAfterThaw(client);
      System.out.printf(Locale.ROOT, "[faults] %s frozen backend: query_timeout_ms=%d error after %d ms (%s);"
              + " same client answered %d ms after SIGCONT (%s)%n",
          protocol(), QUERY_TIMEOUT_MS, toErrorMs, oneLine(error), millisSince(thawed), after);
    }
  }

  /** The client's next request after SIGCONT, retried every 100 ms for at most RECOVERY. */
  private static String answeredAfterThaw(FaultClient client) throws InterruptedException {
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    Exception last = null;
    while (System.nanoTime() - deadline < 0) {
      try {
        return client.roundTrip();
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the client's request was not answered within " + RECOVERY.toSeconds()
        + " s of SIGCONT; last error: " + last, last);
  }
}

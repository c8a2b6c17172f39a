package io.mproxy.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.Outcome;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL forward path through {@link PgMiniProxy} (the daemon's wiring, a real server,
 * transaction pooling): what it costs per transaction in things that can be counted.
 */
class PgForwardPathTest {

  private static PostgresServer pg;

  @BeforeAll
  static void start() {
    pg = PostgresServer.start();
  }

  @AfterAll
  static void stop() {
    if (pg != null) {
      pg.close();
    }
  }

  private static PgMiniProxy proxy(int loops, int poolSize) throws InterruptedException {
    return new PgMiniProxy(pg.host(), pg.port(), PostgresServer.APP_USER, PostgresServer.APP_DATABASE, loops,
        poolSize);
  }

  /**
   * A transaction's request is read, admitted, leased a connection and dispatched within one
   * client read, and answered, completed and its connection released within one backend read:
   * with core's ReadBatch each read takes one clock reading, not one per step. Reading the clock
   * per step cost seven readings per transaction (arrival, admission, the lease, dispatch, last
   * activity, completion, the release); now it is two, a few more when the kernel splits a read.
   */
  @Test
  void aTransactionReadsTheClockOncePerRead() throws Exception {
    int transactions = 200;
    try (PgMiniProxy proxy = proxy(1, 1);
        PgTestClient c = PgTestClient.login(proxy.port(), PgMiniProxy.USER, PgMiniProxy.PASSWORD,
            PostgresServer.APP_DATABASE)) {
      for (int i = 0; i < 20; i++) {
        assertEquals(List.of("1"), c.query("SELECT 1").firstColumns());
      }
      // a request completes just after its answer is flushed: let the last one finish
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(20, proxy.completed(Outcome.OK)));
      long before = proxy.clockReadings();
      for (int i = 0; i < transactions; i++) {
        PgTestClient.Answer a = c.query("SELECT " + i);
        assertNull(a.error());
        assertEquals(List.of(String.valueOf(i)), a.firstColumns());
      }
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(20 + transactions, proxy.completed(Outcome.OK)));
      long readings = proxy.clockReadings() - before;
      assertTrue(readings <= 3L * transactions,
          readings + " clock readings for " + transactions + " transactions");
    }
  }
}

package io.mproxy.server.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A short soak (20 s, a fault every 3 s: Redis SIGKILL and restart, config file rewrite,
 * PostgreSQL restart, POST /api/reload) through real Redis, PostgreSQL, MariaDB and MongoDB
 * backends with their real client libraries: every request sent is answered (ok or error) and
 * none is lost, and every protocol served requests.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SoakTest {

  @Test
  void noRequestIsLostWhileBackendsRestartAndTheConfigReloads() throws Exception {
    SoakTally tally = Soak.run(new Soak.Options(20, 1, 3, 10_000));
    System.out.print(tally.report());

    assertEquals(0, tally.lost(), tally.report());
    assertEquals(tally.sent(), tally.ok() + tally.errors() + tally.lost(), tally.report());
    for (String protocol : new String[] {"redis", "postgres", "mysql", "mongo"}) {
      assertTrue(tally.ok(protocol) > 0, protocol + " served nothing:\n" + tally.report());
    }
    assertTrue(tally.faults("redis backend restart (SIGKILL)") > 0, tally.report());
    assertTrue(tally.faults("postgres backend restart") > 0, tally.report());
    assertTrue(tally.faults("config file rewritten (watched)") > 0, tally.report());
    assertTrue(tally.faults("POST /api/reload") > 0, tally.report());
  }
}

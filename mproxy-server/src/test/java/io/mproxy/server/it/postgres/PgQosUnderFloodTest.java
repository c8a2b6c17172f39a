package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.server.it.QosFlood;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The docs/qos.md experiment, smaller: against a real PostgreSQL, a LOW tenant floods the proxy
 * with scans from 4x as many clients as the pool has connections while a HIGH tenant runs point
 * selects. With the priority gate the HIGH p99 must be lower than without it in the same run
 * (a ratio, not a time: the machine may be busy), and HIGH must see no errors in either.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PgQosUnderFloodTest {

  @Test
  void thePriorityGateKeepsHighLatencyBelowTheUnprotectedRun() throws Exception {
    try (PgQosFlood x = PgQosFlood.start(); ProxyFixture off = x.proxy(false); ProxyFixture on = x.proxy(true)) {
      QosFlood.Phase unprotected = x.phase("off", off, 200, 4 * PgQosFlood.POOL);
      QosFlood.Phase protectedRun = x.phase("on", on, 200, 4 * PgQosFlood.POOL);
      String both = unprotected.row() + "\n" + protectedRun.row();
      assertEquals(0, unprotected.highErrors(), both);
      assertEquals(0, protectedRun.highErrors(), both);
      assertTrue(unprotected.lowDone() > 0 && protectedRun.lowDone() > 0, "the flood ran in both: " + both);
      assertTrue(protectedRun.p99Ms() < unprotected.p99Ms(), "HIGH p99 with QoS below without: " + both);
    }
  }
}

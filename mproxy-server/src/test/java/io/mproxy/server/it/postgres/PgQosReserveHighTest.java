package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.server.it.QosFlood;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code codel.reserve_high} against a real PostgreSQL through pgjdbc: the docs/qos.md flood (a
 * LOW tenant scanning from 4x as many clients as the pool's 2 connections, a HIGH tenant running
 * point selects), once through the gate alone and once through the gate with one of its two
 * slots reserved for HIGH. Without the reserve a HIGH select waits for a running scan to end; with
 * it a slot is free for HIGH. Asserted in one run as ratios (the machine may be busy): HIGH's p50
 * and p99 with the reserve are no higher than without, HIGH sees no error, and LOW still runs.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PgQosReserveHighTest {

  @Test
  void reservingASlotForHighKeepsItsLatencyBelowTheGateAlone() throws Exception {
    try (PgQosFlood x = PgQosFlood.start(); ProxyFixture gate = x.proxy(PgQosFlood.QOS_ON);
        ProxyFixture reserve = x.proxy(PgQosFlood.QOS_RESERVE)) {
      QosFlood.Phase gateOnly = x.phase("gate + CoDel", gate, 200, 4 * PgQosFlood.POOL);
      QosFlood.Phase withReserve = x.phase("gate + CoDel + reserve_high 1", reserve, 200, 4 * PgQosFlood.POOL);
      String both = gateOnly.row() + "\n" + withReserve.row();
      assertEquals(0, gateOnly.highErrors(), both);
      assertEquals(0, withReserve.highErrors(), both);
      assertTrue(gateOnly.lowDone() > 0 && withReserve.lowDone() > 0, "the flood ran in both: " + both);
      assertTrue(withReserve.p50Ms() <= gateOnly.p50Ms(), "HIGH p50 with the reserve <= without: " + both);
      assertTrue(withReserve.p99Ms() <= gateOnly.p99Ms(), "HIGH p99 with the reserve <= without: " + both);
      System.out.println(both);
    }
  }
}

package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.server.it.QosFlood;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The docs/qos.md experiment against a real MariaDB through MySQL Connector/J, smaller: a LOW
 * tenant scans from 4x as many clients as the pool has connections while a HIGH tenant runs point
 * selects, through a proxy without QoS, with the priority gate + CoDel, and with the gate and
 * {@code reserve_high: 1}. Asserted in one run, as ratios (the machine may be busy): HIGH's p99
 * with the gate is below its p99 without it, HIGH's p50 with the reserve is no higher than with
 * the gate alone, HIGH sees no error, and the flood ran in every phase.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MysqlQosUnderFloodTest {

  @Test
  void theGateKeepsHighLatencyBelowTheUnprotectedRunAndTheReserveBelowTheGate() throws Exception {
    try (MysqlQosFlood x = MysqlQosFlood.start(); ProxyFixture off = x.proxy("");
        ProxyFixture gate = x.proxy(MysqlQosFlood.GATE); ProxyFixture reserve = x.proxy(MysqlQosFlood.GATE_RESERVE)) {
      int low = 4 * MysqlQosFlood.POOL;
      QosFlood.Phase unprotected = x.phase("off", off, 200, low);
      QosFlood.Phase gated = x.phase("gate + CoDel", gate, 200, low);
      QosFlood.Phase reserved = x.phase("gate + CoDel + reserve_high 1", reserve, 200, low);
      String all = unprotected.row() + "\n" + gated.row() + "\n" + reserved.row();
      System.out.println(all);
      assertEquals(0, unprotected.highErrors(), all);
      assertEquals(0, gated.highErrors(), all);
      assertEquals(0, reserved.highErrors(), all);
      assertTrue(unprotected.lowDone() > 0 && gated.lowDone() > 0 && reserved.lowDone() > 0,
          "the flood ran in every phase: " + all);
      assertTrue(gated.p99Ms() < unprotected.p99Ms(), "HIGH p99 with the gate below without: " + all);
      assertTrue(reserved.p50Ms() <= gated.p50Ms(), "HIGH p50 with the reserve <= the gate alone: " + all);
    }
  }
}

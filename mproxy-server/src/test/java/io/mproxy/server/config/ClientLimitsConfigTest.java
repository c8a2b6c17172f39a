package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.config.ClientLimits;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The listener keys of the floods defences: defaults, values, and range errors at their place. */
class ClientLimitsConfigTest {

  private static final String CLUSTER = """
      clusters:
        main:
          protocol: redis
          backends: [ { address: 127.0.0.1:6379 } ]
      """;

  @Test
  void defaultsWhenNotGiven() {
    ClientLimits l = valid("""
        listeners:
          - { name: r, protocol: redis, bind: 127.0.0.1:6380, cluster: main }
        """ + CLUSTER).listeners().get(0).clientLimits();
    assertEquals(ClientLimits.DEFAULTS, l);
    assertEquals(0, l.maxAcceptsPerSec());
    assertEquals(10_000, l.handshakeTimeoutMs());
  }

  @Test
  void givenValuesBind() {
    ClientLimits l = valid("""
        listeners:
          - name: r
            protocol: redis
            bind: 127.0.0.1:6380
            cluster: main
            max_accepts_per_sec: 500
            handshake_timeout_ms: 2500
            auth_max_failures: 4
            auth_failure_window_ms: 30000
            auth_block_ms: 120000
        """ + CLUSTER).listeners().get(0).clientLimits();
    assertEquals(new ClientLimits(500, 2500, 4, 30_000, 120_000), l);
  }

  @Test
  void outOfRangeValuesAreReportedAtTheirValue() {
    assertEquals(List.of(
        "t.yaml:6:26: max_accepts_per_sec: -1 (expected: 0..10000000)",
        "t.yaml:7:27: handshake_timeout_ms: 0 (expected: 1..3600000)",
        "t.yaml:8:24: auth_max_failures: 0 (expected: 1..1000000)"), problems("""
        listeners:
          - name: r
            protocol: redis
            bind: 127.0.0.1:6380
            cluster: main
            max_accepts_per_sec: -1
            handshake_timeout_ms: 0
            auth_max_failures: 0
        """ + CLUSTER));
  }
}

package io.mproxy.server.demo;

/**
 * The config file {@code mproxy demo} runs the daemon on: a PostgreSQL listener with one login
 * per tenant, the embedded backend as the only cluster member, and one resource group per tenant.
 * The numbers are sized so that on a laptop the batch flood and the runaway query ask for far more
 * RU than their groups allow, while the interactive tenant stays well inside its own. The batch
 * group queues briefly (a few requests for at most 250 ms) before refusing, so the demo shows both
 * queueing ({@code mproxy_queue_wait_seconds}) and shedding ({@code queue_full}, {@code ru_limit}).
 */
public final class DemoConfig {

  /** The password of every demo login. */
  public static final String PASSWORD = "demo";

  private DemoConfig() {
  }

  /** The YAML text; ports may be 0 (any free port). */
  public static String yaml(String bindHost, int listenerPort, int adminPort, int backendPort) {
    return """
        # Written by `mproxy demo`. Three tenants share one database through mproxy; each has an RU budget.
        server: { shutdown_grace_ms: 2000, watch_config: false }
        admin: { bind: %1$s:%3$d }
        listeners:
          - name: demo
            protocol: postgres
            bind: %1$s:%2$d
            cluster: embedded
            auth_method: md5
            auth:
              mode: terminate
              users:
                - { name: checkout, password: %5$s }
                - { name: reports, password: %5$s }
                - { name: adhoc, password: %5$s }
        clusters:
          embedded:
            protocol: postgres
            credentials: { user: %6$s, password: %7$s }
            database: %8$s
            backends:
              - { address: 127.0.0.1:%4$d, role: primary }
            pool: { mode: transaction, min_idle: 2, max_size: 8, max_opens_per_sec: 50 }
            health: { interval_ms: 2000, timeout_ms: 5000 }
        resource_groups:
          default:     { ru_per_sec: 1000, burst: 2000, priority: normal, on_exhausted: reject }
          interactive: { ru_per_sec: 5000, burst: 10000, priority: high, on_exhausted: reject }
          batch:       { ru_per_sec: 300, burst: 600, priority: low, on_exhausted: queue, max_queue_ms: 250, max_queued: 4 }
          adhoc:       { ru_per_sec: 100, burst: 200, priority: low, on_exhausted: reject }
        tenants:
          - { match: { user: checkout }, group: interactive }
          - { match: { user: reports }, group: batch }
          - { match: { user: adhoc }, group: adhoc }
        """.formatted(bindHost, listenerPort, adminPort, backendPort, PASSWORD,
        DemoBackend.USER, DemoBackend.PASSWORD, DemoBackend.DATABASE);
  }
}

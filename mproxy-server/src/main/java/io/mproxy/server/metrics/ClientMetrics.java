package io.mproxy.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mproxy.server.ClientEvents;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link ClientEvents} as Micrometer counters: {@code mproxy_client_connections_refused_total
 * {listener,reason}} (reason: {@code max_connections}, {@code accept_rate}, {@code draining},
 * {@code handshake_timeout}) and {@code mproxy_auth_failures_total{listener,result}} (result:
 * {@code failed}, {@code blocked}). Counters are cached per label set; listener names come from
 * the configuration, so the caches are bounded by it.
 */
public final class ClientMetrics implements ClientEvents {

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  public ClientMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void connectionRefused(String listener, RefusalReason reason) {
    counter("mproxy_client_connections_refused", listener, "reason", reason.label()).increment();
  }

  @Override
  public void authFailed(String listener) {
    counter("mproxy_auth_failures", listener, "result", "failed").increment();
  }

  @Override
  public void authBlocked(String listener) {
    counter("mproxy_auth_failures", listener, "result", "blocked").increment();
  }

  private Counter counter(String name, String listener, String key, String value) {
    String id = name + '\u0000' + listener + '\u0000' + value;
    Counter c = counters.get(id);
    if (c == null) {
      c = counters.computeIfAbsent(id, k -> Counter.builder(name)
          .tag("listener", listener).tag(key, value).register(registry));
    }
    return c;
  }
}

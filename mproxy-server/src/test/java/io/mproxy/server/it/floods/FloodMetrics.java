package io.mproxy.server.it.floods;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;

/** Reads the flood counters and listener gauges of a running proxy. */
final class FloodMetrics {

  private FloodMetrics() {
  }

  static double refused(ProxyFixture proxy, String listener, String reason) {
    return proxy.metrics().sum("mproxy_client_connections_refused_total", "listener", listener, "reason", reason);
  }

  static double auth(ProxyFixture proxy, String listener, String result) {
    return proxy.metrics().sum("mproxy_auth_failures_total", "listener", listener, "result", result);
  }

  /** {@code client_connections} of a listener in {@code /api/status}. */
  static int clientConnections(ProxyFixture proxy, String listener) {
    for (JsonNode l : proxy.status().path("listeners")) {
      if (listener.equals(l.path("name").asText())) {
        return l.path("client_connections").asInt(-1);
      }
    }
    throw new AssertionError("no listener '" + listener + "' in /api/status");
  }
}

package io.mproxy.server.it.mongo;

import java.util.ArrayList;
import java.util.List;

/**
 * The YAML of a one-listener proxy in front of MongoDB backends, with test-friendly defaults
 * (loopback port 0, file watcher off, quick health checks) plus what a test adds.
 */
final class MongoProxyConfig {

  static final String LISTENER = "mongo";
  static final String CLUSTER = "mongo-backend";

  private final List<String> backends = new ArrayList<>();
  private final List<String> listenerLines = new ArrayList<>();
  private final List<String> clusterLines = new ArrayList<>();
  private final List<String> groups = new ArrayList<>();
  private final List<String> tenants = new ArrayList<>();

  static MongoProxyConfig forBackend(String address) {
    return new MongoProxyConfig().backend(address, "primary");
  }

  MongoProxyConfig backend(String address, String role) {
    backends.add("{ address: " + address + ", role: " + role + " }");
    return this;
  }

  MongoProxyConfig listener(String line) {
    listenerLines.add(line);
    return this;
  }

  MongoProxyConfig cluster(String line) {
    clusterLines.add(line);
    return this;
  }

  MongoProxyConfig group(String name, String flow) {
    groups.add(name + ": " + flow);
    return this;
  }

  MongoProxyConfig tenant(String flow) {
    tenants.add(flow);
    return this;
  }

  String render() {
    StringBuilder y = new StringBuilder();
    y.append("server: { watch_config: false, shutdown_grace_ms: 2000 }\n");
    y.append("admin: { bind: 127.0.0.1:0 }\n");
    y.append("listeners:\n");
    y.append("  - name: ").append(LISTENER).append('\n');
    y.append("    protocol: mongodb\n");
    y.append("    bind: 127.0.0.1:0\n");
    y.append("    cluster: ").append(CLUSTER).append('\n');
    listenerLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append("clusters:\n");
    y.append("  ").append(CLUSTER).append(":\n");
    y.append("    protocol: mongodb\n");
    y.append("    backends:\n");
    backends.forEach(b -> y.append("      - ").append(b).append('\n'));
    if (clusterLines.stream().noneMatch(l -> l.startsWith("health:"))) {
      y.append("    health: { interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }\n");
    }
    clusterLines.forEach(l -> y.append("    ").append(l).append('\n'));
    if (!groups.isEmpty()) {
      y.append("resource_groups:\n");
      groups.forEach(g -> y.append("  ").append(g).append('\n'));
    }
    if (!tenants.isEmpty()) {
      y.append("tenants:\n");
      tenants.forEach(t -> y.append("  - ").append(t).append('\n'));
    }
    return y.toString();
  }

  @Override
  public String toString() {
    return render();
  }
}

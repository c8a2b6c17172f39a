package io.mproxy.server.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The YAML of a one-listener, one-cluster proxy in front of one Redis backend, built from
 * defaults that suit tests (listener and admin on loopback port 0, the file watcher off) plus the
 * sections a test spells out. {@link #render()} gives the file text; every {@code with…} returns
 * a copy, so a test can derive the file it reloads from the one it started with.
 *
 * <pre>{@code
 * ProxyConfigText config = ProxyConfigText.forBackend(redis.address())
 *     .withGroup("flood", "{ ru_per_sec: 50, burst: 50, on_exhausted: reject }")
 *     .withTenant("{ match: { application: flood }, group: flood }");
 * }</pre>
 */
final class ProxyConfigText {

  static final String LISTENER = "redis";
  static final String CLUSTER = "backend";

  private final String backendAddress;
  private final String server;
  private final List<String> listenerLines;
  private final List<String> clusterLines;
  private final List<String> groups;
  private final List<String> tenants;

  private ProxyConfigText(String backendAddress, String server, List<String> listenerLines,
      List<String> clusterLines, List<String> groups, List<String> tenants) {
    this.backendAddress = backendAddress;
    this.server = server;
    this.listenerLines = List.copyOf(listenerLines);
    this.clusterLines = List.copyOf(clusterLines);
    this.groups = List.copyOf(groups);
    this.tenants = List.copyOf(tenants);
  }

  /**
   * A proxy for the Redis server at {@code host:port}. Health probes run every 200 ms and a
   * failed backend is retried after 100–500 ms, so tests of outages finish quickly.
   */
  static ProxyConfigText forBackend(String backendAddress) {
    return new ProxyConfigText(Objects.requireNonNull(backendAddress),
        "{ watch_config: false, shutdown_grace_ms: 5000 }", List.of(),
        List.of("health: { interval_ms: 200, timeout_ms: 1000, retry_base_ms: 100, retry_max_ms: 500 }"),
        List.of(), List.of());
  }

  /** Replaces the {@code server:} flow mapping, e.g. {@code "{ watch_config: true }"}. */
  ProxyConfigText withServer(String flowMapping) {
    return new ProxyConfigText(backendAddress, flowMapping, listenerLines, clusterLines, groups, tenants);
  }

  /** Adds a key to the listener, e.g. {@code "max_frame_bytes: 1mb"}. */
  ProxyConfigText withListener(String line) {
    return new ProxyConfigText(backendAddress, server, plus(listenerLines, line), clusterLines, groups, tenants);
  }

  /**
   * Adds a key to the cluster, e.g. {@code "pool: { max_size: 4 }"}. A {@code health:} line
   * replaces the default one.
   */
  ProxyConfigText withCluster(String line) {
    List<String> lines = new ArrayList<>(clusterLines);
    String key = line.substring(0, line.indexOf(':') + 1);
    lines.removeIf(l -> l.startsWith(key));
    lines.add(line);
    return new ProxyConfigText(backendAddress, server, listenerLines, lines, groups, tenants);
  }

  /** Adds (or replaces) a resource group, e.g. {@code ("flood", "{ ru_per_sec: 50 }")}. */
  ProxyConfigText withGroup(String name, String flowMapping) {
    List<String> next = new ArrayList<>(groups);
    next.removeIf(g -> g.startsWith(name + ": "));
    next.add(name + ": " + flowMapping);
    return new ProxyConfigText(backendAddress, server, listenerLines, clusterLines, next, tenants);
  }

  /** Appends a tenant rule (first match wins), e.g. {@code "{ match: { user: app }, group: g }"}. */
  ProxyConfigText withTenant(String flowMapping) {
    return new ProxyConfigText(backendAddress, server, listenerLines, clusterLines, groups, plus(tenants, flowMapping));
  }

  String render() {
    StringBuilder y = new StringBuilder();
    y.append("# written by ").append(ProxyConfigText.class.getName()).append('\n');
    y.append("server: ").append(server).append('\n');
    y.append("admin: { bind: 127.0.0.1:0 }\n");
    y.append("listeners:\n");
    y.append("  - name: ").append(LISTENER).append('\n');
    y.append("    protocol: redis\n");
    y.append("    bind: 127.0.0.1:0\n");
    y.append("    cluster: ").append(CLUSTER).append('\n');
    listenerLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append("clusters:\n");
    y.append("  ").append(CLUSTER).append(":\n");
    y.append("    protocol: redis\n");
    y.append("    backends:\n");
    y.append("      - { address: ").append(backendAddress).append(", role: primary }\n");
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

  private static List<String> plus(List<String> list, String item) {
    List<String> out = new ArrayList<>(list);
    out.add(Objects.requireNonNull(item));
    return out;
  }
}

package io.mproxy.server.it.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The YAML of a one-listener ({@value #LISTENER}), one-cluster ({@value #CLUSTER}) PostgreSQL
 * proxy in front of one backend, from defaults that suit tests plus what a test spells out. The
 * defaults are the example: clients log in to the proxy as {@code app}/{@code secret}
 * with SCRAM, the proxy logs in to the backend as {@code app}/{@code secret}, transaction pooling
 * with {@code min_idle: 1, max_size: 5}, and a {@code default} group too large to refuse
 * anything. Every {@code with…} returns a copy.
 *
 * <pre>{@code
 * PgConfigText config = PgConfigText.forBackend(pg.address()).withPool("transaction", 1, 10)
 *     .withListener("max_client_connections: 3");
 * ProxyFixture proxy = ProxyFixture.startYaml(config.render(), PgConfigText.LISTENER);
 * }</pre>
 */
final class PgConfigText {

  static final String LISTENER = "pg";
  static final String CLUSTER = "pg";
  static final String DEFAULT_GROUP =
      "{ ru_per_sec: 1000000, burst: 2000000, priority: normal, on_exhausted: reject }";

  private final String backendAddress;
  private final String pool;
  private final List<String> users;
  private final List<String> listenerLines;
  private final List<String> clusterLines;
  private final List<String> groups;
  private final List<String> tenants;

  private PgConfigText(String backendAddress, String pool, List<String> users, List<String> listenerLines,
      List<String> clusterLines, List<String> groups, List<String> tenants) {
    this.backendAddress = backendAddress;
    this.pool = pool;
    this.users = List.copyOf(users);
    this.listenerLines = List.copyOf(listenerLines);
    this.clusterLines = List.copyOf(clusterLines);
    this.groups = List.copyOf(groups);
    this.tenants = List.copyOf(tenants);
  }

  /** A proxy for the PostgreSQL server at {@code host:port} with the defaults above. */
  static PgConfigText forBackend(String backendAddress) {
    return new PgConfigText(Objects.requireNonNull(backendAddress),
        "{ mode: transaction, min_idle: 1, max_size: 5 }",
        List.of("{ name: app, password: secret }"),
        List.of("query_wait_timeout_ms: 5000"),
        // generous probe timeout: on a loaded 2-core machine a 1 s probe can time out and mark
        // the only backend down in the middle of a test
        List.of("credentials: { user: app, password: secret }",
            "health: { interval_ms: 1000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 1000 }"),
        List.of("default: " + DEFAULT_GROUP),
        List.of());
  }

  /** Replaces the pool: {@code mode} is {@code transaction} or {@code session}. */
  PgConfigText withPool(String mode, int minIdle, int maxSize) {
    return withPool(mode, minIdle, maxSize, "");
  }

  /** Replaces the pool with more keys, e.g. {@code "acquire_timeout_ms: 60000"}. */
  PgConfigText withPool(String mode, int minIdle, int maxSize, String moreKeys) {
    return new PgConfigText(backendAddress,
        "{ mode: " + mode + ", min_idle: " + minIdle + ", max_size: " + maxSize
            + (moreKeys.isEmpty() ? "" : ", " + moreKeys) + " }",
        users, listenerLines, clusterLines, groups, tenants);
  }

  /** Adds a user the proxy accepts, e.g. {@code "{ name: v, scram_verifier: 'SCRAM-SHA-256$…' }"}. */
  PgConfigText withUser(String flowMapping) {
    return new PgConfigText(backendAddress, pool, plus(users, flowMapping), listenerLines, clusterLines,
        groups, tenants);
  }

  /** Adds a key to the listener, e.g. {@code "auth_method: md5"}; a key given twice replaces. */
  PgConfigText withListener(String line) {
    return new PgConfigText(backendAddress, pool, users, replacing(listenerLines, line), clusterLines,
        groups, tenants);
  }

  /**
   * Adds a key to the cluster, e.g. {@code "tls: { mode: require }"}; a key given twice replaces,
   * so {@code "credentials: {...}"} replaces the default app/secret.
   */
  PgConfigText withCluster(String line) {
    return new PgConfigText(backendAddress, pool, users, listenerLines, replacing(clusterLines, line),
        groups, tenants);
  }

  /** Adds (or replaces) a resource group, e.g. {@code ("scan", "{ ru_per_sec: 50 }")}. */
  PgConfigText withGroup(String name, String flowMapping) {
    List<String> next = new ArrayList<>(groups);
    next.removeIf(g -> g.startsWith(name + ": "));
    next.add(name + ": " + flowMapping);
    return new PgConfigText(backendAddress, pool, users, listenerLines, clusterLines, next, tenants);
  }

  /** Appends a tenant rule, e.g. {@code "{ match: { application: scan }, group: scan }"}. */
  PgConfigText withTenant(String flowMapping) {
    return new PgConfigText(backendAddress, pool, users, listenerLines, clusterLines, groups,
        plus(tenants, flowMapping));
  }

  String render() {
    StringBuilder y = new StringBuilder();
    y.append("# written by ").append(PgConfigText.class.getName()).append('\n');
    y.append("server: { watch_config: false, shutdown_grace_ms: 5000 }\n");
    y.append("admin: { bind: 127.0.0.1:0 }\n");
    y.append("listeners:\n");
    y.append("  - name: ").append(LISTENER).append('\n');
    y.append("    protocol: postgres\n");
    y.append("    bind: 127.0.0.1:0\n");
    y.append("    cluster: ").append(CLUSTER).append('\n');
    y.append("    auth:\n");
    y.append("      mode: terminate\n");
    y.append("      users:\n");
    users.forEach(u -> y.append("        - ").append(u).append('\n'));
    listenerLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append("clusters:\n");
    y.append("  ").append(CLUSTER).append(":\n");
    y.append("    protocol: postgres\n");
    y.append("    backends:\n");
    y.append("      - { address: ").append(backendAddress).append(", role: primary }\n");
    y.append("    pool: ").append(pool).append('\n');
    clusterLines.forEach(l -> y.append("    ").append(l).append('\n'));
    y.append("resource_groups:\n");
    groups.forEach(g -> y.append("  ").append(g).append('\n'));
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

  private static List<String> replacing(List<String> lines, String line) {
    String key = line.substring(0, line.indexOf(':') + 1);
    List<String> out = new ArrayList<>(lines);
    out.removeIf(l -> l.startsWith(key));
    out.add(line);
    return out;
  }

  private static List<String> plus(List<String> list, String item) {
    List<String> out = new ArrayList<>(list);
    out.add(Objects.requireNonNull(item));
    return out;
  }
}

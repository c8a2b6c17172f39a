package io.mproxy.server.config;

import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.server.Transport;
import io.mproxy.server.config.YamlNode.Entry;
import io.mproxy.server.config.YamlNode.MapNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Binds a whole located tree to a {@link ProxyConfig}: each section by its binder, then the
 * checks that span sections (names and binds unique, references defined, protocols agree).
 * Yields a config only when nothing at all was reported.
 */
final class ConfigBinder {

  static final List<String> SECTIONS =
      List.of("server", "admin", "listeners", "clusters", "resource_groups", "tenants", "cluster",
          "codel", "runaway", ObservabilityBinder.LOGGING, ObservabilityBinder.TELEMETRY);
  static final List<String> SERVER_KEYS =
      List.of("shutdown_grace_ms", "io_threads", "ru_tick_ms", "watch_config", "transport");
  /** Shortest admin token accepted: long enough not to be guessed over HTTP. */
  static final int MIN_ADMIN_TOKEN = 16;
  static final List<String> ADMIN_KEYS = List.of("bind", "token");

  private static final Set<String> WILDCARD_HOSTS = Set.of("0.0.0.0", "::", "*");

  private final Adapters adapters;
  private final Problems problems;
  private final Function<Transport, Optional<Throwable>> transportAvailability;
  private ObservabilityConfig observability = ObservabilityConfig.DEFAULT;

  /** @param transportAvailability why a transport cannot run here (empty: it can); tests inject it */
  ConfigBinder(Adapters adapters, Problems problems, Function<Transport, Optional<Throwable>> transportAvailability) {
    this.adapters = adapters;
    this.problems = problems;
    this.transportAvailability = transportAvailability;
  }

  Optional<ProxyConfig> bind(YamlNode root) {
    if (!(root instanceof MapNode map)) {
      problems.report(root.mark(), "the file holds " + root.describe()
          + " (expected: a mapping with keys " + String.join(", ", SECTIONS) + ")");
      return Optional.empty();
    }
    MapReader top = new MapReader(map, problems, SECTIONS);
    ServerSettings server = top.section("server", SERVER_KEYS).map(this::server)
        .orElse(ServerSettings.DEFAULT);
    Optional<MapReader> adminSection = top.section("admin", ADMIN_KEYS);
    AdminConfig admin = adminSection.map(this::admin).orElse(AdminConfig.DEFAULT);
    List<ListenerBinder.Bound> listeners = new ListenerBinder(adapters, problems).bindAll(top);
    Map<String, ClusterBinder.Bound> clusters = new ClusterBinder(adapters, problems).bindAll(top);
    Map<String, ResourceGroupConfig> groups = new ResourceGroupBinder(problems).bindAll(top);
    List<TenantBinder.Bound> tenants = new TenantBinder(problems).bindAll(top);
    Optional<FleetConfig> fleet = new FleetBinder(problems).bind(top);
    Optional<CodelConfig> codel = top.section("codel", ResourceGroupBinder.GLOBAL_CODEL_KEYS)
        .map(c -> ResourceGroupBinder.codel(c, true));
    List<RunawayBinder.Bound> runaway = new RunawayBinder(problems).bind(top);
    observability = ObservabilityBinder.bind(top);
    top.rejectUnknownKeys();

    checkListenerNames(listeners);
    checkBinds(listeners, admin, adminSection.filter(a -> a.has("bind")).isPresent());
    checkClusterReferences(listeners, clusters);
    checkTenantReferences(tenants, listeners, groups);
    checkRunawayGroups(runaway, groups);
    if (!problems.isEmpty()) {
      return Optional.empty();
    }
    Map<String, ClusterConfig> clusterConfigs = new LinkedHashMap<>();
    clusters.forEach((name, bound) -> clusterConfigs.put(name, bound.config()));
    List<ListenerConfig> listenerConfigs = listeners.stream().map(ListenerBinder.Bound::config).toList();
    List<TenantRule> rules = tenants.stream().map(TenantBinder.Bound::rule).toList();
    return Optional.of(new ProxyConfig(server, admin, listenerConfigs, clusterConfigs, groups, rules, fleet,
        codel, RunawayBinder.config(runaway)));
  }

  /** The {@code logging:} and {@code telemetry:} sections of the last {@link #bind}. */
  ObservabilityConfig observability() {
    return observability;
  }

  /**
   * The value of a named entry (a cluster, a resource group) as a section; a null value reads as
   * an empty mapping at the name, so its required keys are reported as missing there.
   */
  static Optional<MapReader> namedSection(Entry entry, Problems problems, List<String> keys) {
    YamlNode value = entry.value();
    if (value.isNull()) {
      return Optional.of(new MapReader(MapNode.empty(entry.keyMark()), problems, keys));
    }
    if (value instanceof MapNode map) {
      return Optional.of(new MapReader(map, problems, keys));
    }
    problems.report(value.mark(), entry.key() + ": " + value.describe() + " (expected: a mapping)");
    return Optional.empty();
  }

  private ServerSettings server(MapReader s) {
    ServerSettings d = ServerSettings.DEFAULT;
    ServerSettings server = new ServerSettings(
        s.integer("shutdown_grace_ms", d.shutdownGraceMs(), Range.atLeast(0)),
        s.int32("io_threads", d.ioThreads(), Range.atLeast(0)),
        s.integer("ru_tick_ms", d.ruTickMs(), Range.greaterThan(0)),
        s.bool("watch_config", d.watchConfig()),
        transport(s));
    s.rejectUnknownKeys();
    return server;
  }

  /**
   * {@code transport}: one of {@link Transport#SETTINGS}; a named transport that cannot run in
   * this process is a problem naming Netty's cause, so the daemon never starts on another one.
   */
  private String transport(MapReader s) {
    Optional<String> setting = s.oneOf("transport", Transport.SETTINGS);
    if (setting.isEmpty()) {
      return ServerSettings.DEFAULT.transport();
    }
    Optional<Transport> named = Transport.named(setting.get());
    if (named.isPresent()) {
      Optional<Throwable> cause = transportAvailability.apply(named.get());
      if (cause.isPresent()) {
        s.report(s.valueMark("transport"), "transport: " + Transport.unavailable(named.get(), cause.get()));
      }
    }
    return setting.get();
  }

  private AdminConfig admin(MapReader a) {
    HostPort bind = a.hostPort("bind", ListenerBinder.PORTS).orElse(AdminConfig.DEFAULT.bind());
    String token = null;
    if (a.has("token")) {
      token = a.requiredString("token", "a bearer token of at least " + MIN_ADMIN_TOKEN + " characters")
          .orElse(null);
      if (token != null && token.length() < MIN_ADMIN_TOKEN) {
        a.report(a.valueMark("token"), "token: too short (expected: a bearer token of at least "
            + MIN_ADMIN_TOKEN + " characters)");
        token = null;
      }
    } else if (!AdminConfig.isLoopback(bind.host())) {
      // The admin API reloads the config and shows all traffic: never open without a token.
      a.report(a.valueMark("bind"), "bind: " + bind + " is not a loopback address: set admin.token"
          + " (clients then send 'Authorization: Bearer <token>') or bind to 127.0.0.1");
    }
    a.rejectUnknownKeys();
    return token == null && bind.equals(AdminConfig.DEFAULT.bind()) ? AdminConfig.DEFAULT
        : new AdminConfig(bind, token);
  }

  private void checkListenerNames(List<ListenerBinder.Bound> listeners) {
    Map<String, Mark> seen = new HashMap<>();
    for (ListenerBinder.Bound l : listeners) {
      if (l.name() == null) {
        continue;
      }
      Mark first = seen.putIfAbsent(l.name(), l.nameMark());
      if (first != null) {
        problems.report(l.nameMark(),
            "name: '" + l.name() + "' is already used (first at line " + first.line() + ")");
      }
    }
  }

  /** Two sockets cannot bind the same port on overlapping addresses; port 0 never clashes. */
  private void checkBinds(List<ListenerBinder.Bound> listeners, AdminConfig admin, boolean adminGiven) {
    List<ListenerBinder.Bound> earlier = new ArrayList<>();
    for (ListenerBinder.Bound l : listeners) {
      if (l.bind() == null || l.bind().port() == 0) {
        continue;
      }
      if (clash(l.bind(), admin.bind())) {
        problems.report(l.bindMark(), "bind: " + l.bind() + " is already used by admin.bind"
            + (adminGiven ? "" : " (default " + admin.bind() + ")"));
      }
      for (ListenerBinder.Bound other : earlier) {
        if (clash(l.bind(), other.bind())) {
          problems.report(l.bindMark(), "bind: " + l.bind() + " is already used by listener "
              + (other.name() != null ? "'" + other.name() + "'" : "at line " + other.bindMark().line()));
          break;
        }
      }
      earlier.add(l);
    }
  }

  private static boolean clash(HostPort a, HostPort b) {
    if (a.port() != b.port() || a.port() == 0) {
      return false;
    }
    String hostA = a.host().toLowerCase(Locale.ROOT);
    String hostB = b.host().toLowerCase(Locale.ROOT);
    return hostA.equals(hostB) || WILDCARD_HOSTS.contains(hostA) || WILDCARD_HOSTS.contains(hostB);
  }

  private void checkClusterReferences(List<ListenerBinder.Bound> listeners,
      Map<String, ClusterBinder.Bound> clusters) {
    for (ListenerBinder.Bound l : listeners) {
      if (l.cluster() == null) {
        continue;
      }
      ClusterBinder.Bound cluster = clusters.get(l.cluster());
      if (cluster == null) {
        problems.report(l.clusterMark(), "cluster: '" + l.cluster() + "' is not defined (defined: "
            + MapReader.joinSorted(clusters.keySet()) + ")");
        continue;
      }
      String listenerProtocol = l.config().protocol();
      if (cluster.protocol() != null && !listenerProtocol.isEmpty()
          && !cluster.protocol().equals(listenerProtocol)) {
        problems.report(l.clusterMark(), "cluster: '" + l.cluster() + "' is a " + cluster.protocol()
            + " cluster (expected: a " + listenerProtocol + " cluster)");
      }
    }
  }

  private void checkRunawayGroups(List<RunawayBinder.Bound> rules, Map<String, ResourceGroupConfig> groups) {
    for (RunawayBinder.Bound r : rules) {
      String group = r.rule().group();
      if (r.groupMark() != null && !groups.containsKey(group)) {
        problems.report(r.groupMark(), "group: '" + group + "' is not defined (defined: "
            + MapReader.joinSorted(groups.keySet()) + ")");
      }
    }
  }

  private void checkTenantReferences(List<TenantBinder.Bound> tenants,
      List<ListenerBinder.Bound> listeners, Map<String, ResourceGroupConfig> groups) {
    List<String> listenerNames = listeners.stream().map(ListenerBinder.Bound::name)
        .filter(n -> n != null).toList();
    for (TenantBinder.Bound t : tenants) {
      TenantRule rule = t.rule();
      if (t.groupMark() != null && !groups.containsKey(rule.group())) {
        problems.report(t.groupMark(), "group: '" + rule.group() + "' is not defined (defined: "
            + MapReader.joinSorted(groups.keySet()) + ")");
      }
      if (t.listenerMark() != null && !listenerNames.contains(rule.listener())) {
        problems.report(t.listenerMark(), "listener: '" + rule.listener()
            + "' is not defined (defined: " + MapReader.joinSorted(listenerNames) + ")");
      }
    }
  }
}

package io.mproxy.core.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole validated configuration: immutable, swapped atomically on reload. {@code fleet} is the
 * optional top-level {@code cluster:} section (budget sharing over gossip); {@code codel} the
 * optional top-level {@code codel:} section (CoDel shedding judged across every group);
 * {@code runaway} the runaway-query rules (none when the section is absent).
 */
public record ProxyConfig(
    ServerSettings server,
    AdminConfig admin,
    List<ListenerConfig> listeners,
    Map<String, ClusterConfig> clusters,
    Map<String, ResourceGroupConfig> resourceGroups,
    List<TenantRule> tenants,
    Optional<FleetConfig> fleet,
    Optional<CodelConfig> codel,
    RunawayConfig runaway) {

  public ProxyConfig {
    runaway = runaway == null ? RunawayConfig.NONE : runaway;
    codel = codel == null ? Optional.empty() : codel;
    listeners = List.copyOf(listeners);
    clusters = Map.copyOf(clusters);
    resourceGroups = Map.copyOf(resourceGroups);
    tenants = List.copyOf(tenants);
    fleet = fleet == null ? Optional.empty() : fleet;
  }

  /** Without a {@code runaway:} section. */
  public ProxyConfig(ServerSettings server, AdminConfig admin, List<ListenerConfig> listeners,
      Map<String, ClusterConfig> clusters, Map<String, ResourceGroupConfig> resourceGroups,
      List<TenantRule> tenants, Optional<FleetConfig> fleet, Optional<CodelConfig> codel) {
    this(server, admin, listeners, clusters, resourceGroups, tenants, fleet, codel, RunawayConfig.NONE);
  }

  /** A node alone: no {@code cluster:} section. */
  public ProxyConfig(ServerSettings server, AdminConfig admin, List<ListenerConfig> listeners,
      Map<String, ClusterConfig> clusters, Map<String, ResourceGroupConfig> resourceGroups,
      List<TenantRule> tenants) {
    this(server, admin, listeners, clusters, resourceGroups, tenants, Optional.empty(), Optional.empty());
  }

  /** Without a global {@code codel:} section. */
  public ProxyConfig(ServerSettings server, AdminConfig admin, List<ListenerConfig> listeners,
      Map<String, ClusterConfig> clusters, Map<String, ResourceGroupConfig> resourceGroups,
      List<TenantRule> tenants, Optional<FleetConfig> fleet) {
    this(server, admin, listeners, clusters, resourceGroups, tenants, fleet, Optional.empty());
  }

  public Optional<ListenerConfig> listener(String name) {
    return listeners.stream().filter(l -> l.name().equals(name)).findFirst();
  }

  /** The named group, or the default group when the name is unknown. */
  public ResourceGroupConfig group(String name) {
    ResourceGroupConfig g = resourceGroups.get(name);
    if (g != null) {
      return g;
    }
    ResourceGroupConfig d = resourceGroups.get(ResourceGroupConfig.DEFAULT_GROUP);
    return d != null ? d : ResourceGroupConfig.unlimitedDefault();
  }
}

package io.mproxy.core.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole validated configuration: immutable, swapped atomically on reload. */
public record ProxyConfig(
    ServerSettings server,
    AdminConfig admin,
    List<ListenerConfig> listeners,
    Map<String, ClusterConfig> clusters,
    Map<String, ResourceGroupConfig> resourceGroups,
    List<TenantRule> tenants) {

  public ProxyConfig {
    listeners = List.copyOf(listeners);
    clusters = Map.copyOf(clusters);
    resourceGroups = Map.copyOf(resourceGroups);
    tenants = List.copyOf(tenants);
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

package io.mproxy.core.config;

import java.util.List;
import java.util.Map;

/** A set of backends of one protocol that listeners forward to. */
public record ClusterConfig(
    String name,
    String protocol,
    Credentials credentials,
    List<BackendConfig> backends,
    BalancerConfig balancer,
    PoolConfig pool,
    RuWeights ru,
    HealthConfig health,
    Map<String, Object> options) {

  public ClusterConfig {
    backends = List.copyOf(backends);
    options = Map.copyOf(options);
  }
}

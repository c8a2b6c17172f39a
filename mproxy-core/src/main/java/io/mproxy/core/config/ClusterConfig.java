package io.mproxy.core.config;

import java.util.List;
import java.util.Map;

/**
 * A set of backends of one protocol that listeners forward to; {@code circuit} is the per-backend
 * circuit breaker, or null for none.
 */
public record ClusterConfig(
    String name,
    String protocol,
    Credentials credentials,
    List<BackendConfig> backends,
    BalancerConfig balancer,
    PoolConfig pool,
    RuWeights ru,
    HealthConfig health,
    Map<String, Object> options,
    CircuitConfig circuit) {

  public ClusterConfig {
    backends = List.copyOf(backends);
    options = Map.copyOf(options);
  }

  /** A cluster without a circuit breaker ({@code circuit} is null: backends are never tripped). */
  public ClusterConfig(String name, String protocol, Credentials credentials, List<BackendConfig> backends,
      BalancerConfig balancer, PoolConfig pool, RuWeights ru, HealthConfig health, Map<String, Object> options) {
    this(name, protocol, credentials, backends, balancer, pool, ru, health, options, null);
  }
}

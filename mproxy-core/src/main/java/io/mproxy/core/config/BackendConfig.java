package io.mproxy.core.config;

/** One database server in a cluster. */
public record BackendConfig(HostPort address, Role role) {

  public enum Role { PRIMARY, REPLICA }
}

package io.mproxy.core.config;

/** The admin HTTP endpoint (metrics, health, status, reload, dashboard). */
public record AdminConfig(HostPort bind) {

  public static final AdminConfig DEFAULT = new AdminConfig(new HostPort("127.0.0.1", 9901));
}

package io.mproxy.core.config;

/**
 * Maps a tenant to a resource group; the first rule whose every given key matches wins.
 * A null match key matches anything; {@code priority} null means the group's default.
 */
public record TenantRule(
    String listener,
    String user,
    String database,
    String application,
    String group,
    Priority priority,
    boolean allowHints) {
}

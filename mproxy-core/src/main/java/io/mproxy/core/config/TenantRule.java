package io.mproxy.core.config;

/**
 * Maps a tenant to a resource group; the first rule whose every given key matches wins.
 * A null match key matches anything; {@code priority} null means the group's default.
 * {@code hintsShadow} ({@code allow_hints: shadow}): hints are read and counted as what they
 * would have changed, and change nothing.
 */
public record TenantRule(
    String listener,
    String user,
    String database,
    String application,
    String group,
    Priority priority,
    boolean allowHints,
    boolean hintsShadow) {

  /** A rule whose hints are honoured as {@code allowHints} says (not in shadow). */
  public TenantRule(String listener, String user, String database, String application, String group,
      Priority priority, boolean allowHints) {
    this(listener, user, database, application, group, priority, allowHints, false);
  }
}

package io.mproxy.core.config;

import java.util.List;

/** The top-level {@code runaway:} section: rules tried in order, the first that applies acts. */
public record RunawayConfig(List<RunawayRule> rules) {

  public static final RunawayConfig NONE = new RunawayConfig(List.of());

  public RunawayConfig {
    rules = List.copyOf(rules);
  }
}

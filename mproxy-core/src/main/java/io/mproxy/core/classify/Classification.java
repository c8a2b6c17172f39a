package io.mproxy.core.classify;

import io.mproxy.core.config.Priority;

/**
 * The outcome of classifying a tenant: its resource group, priority, and whether hints are
 * honoured ({@code allowHints}) or, in shadow ({@code hintsShadow}), only counted.
 */
public record Classification(String group, Priority priority, boolean allowHints, int ruleIndex,
    boolean hintsShadow) {

  /** Hints honoured as {@code allowHints} says, never in shadow. */
  public Classification(String group, Priority priority, boolean allowHints, int ruleIndex) {
    this(group, priority, allowHints, ruleIndex, false);
  }
}

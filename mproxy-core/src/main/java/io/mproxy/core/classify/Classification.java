package io.mproxy.core.classify;

import io.mproxy.core.config.Priority;

/** The outcome of classifying a tenant: its resource group, priority, and whether hints are honoured. */
public record Classification(String group, Priority priority, boolean allowHints, int ruleIndex) {
}

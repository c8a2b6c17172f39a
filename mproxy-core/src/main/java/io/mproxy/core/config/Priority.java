package io.mproxy.core.config;

import java.util.Locale;

/** Scheduling priority; under overload LOW is shed first and HIGH last. */
public enum Priority {
  HIGH, NORMAL, LOW;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

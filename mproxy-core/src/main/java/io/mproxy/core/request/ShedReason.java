package io.mproxy.core.request;

import java.util.Locale;

/** Why a request was refused; the {@code reason} label of {@code mproxy_shed_total}. */
public enum ShedReason {
  RU_LIMIT, CODEL, RUNAWAY, CIRCUIT_OPEN, QUEUE_FULL, NO_BACKEND;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

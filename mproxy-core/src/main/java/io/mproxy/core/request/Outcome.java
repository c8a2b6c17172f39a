package io.mproxy.core.request;

import java.util.Locale;

/** How a request ended; the {@code outcome} label of {@code mproxy_requests_total}. */
public enum Outcome {
  OK, ERROR, REJECTED, SHED, TIMEOUT;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}

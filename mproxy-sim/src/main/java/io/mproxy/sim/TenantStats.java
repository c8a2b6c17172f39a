package io.mproxy.sim;

import io.mproxy.core.request.ShedReason;

/**
 * What happened to one tenant, counted by the simulated client (requests and their final fate)
 * and by the proxy node (attempts and each attempt's answer). RU and backend time are filled in
 * from the production resource groups and the simulated backends when the run ends.
 */
public final class TenantStats {

  final String name;
  long requests;
  long attempts;
  long admitted;
  long ok;
  final long[] shed = new long[ShedReason.values().length];
  long unavailable;
  long errors;
  long timeouts;
  long clientTimeouts;
  long retries;
  long gaveUp;
  long succeeded;
  double ru;
  double busyNanos;
  /** Requests a runaway cancel rule stopped, and the longest one had run when it was stopped. */
  long cancelled;
  long maxElapsedAtCancelNanos;
  /** The longest any request ran between its dispatch and its end (reply, cancel or timeout). */
  long maxRunNanos;
  final LatencyHistogram latency = new LatencyHistogram();
  final Series goodput;

  TenantStats(String name, long sampleMs, long endMs) {
    this.name = name;
    this.goodput = new Series(sampleMs, endMs);
  }

  public String name() {
    return name;
  }

  /** Requests a runaway {@code cancel} rule stopped while they ran. */
  public long cancelled() {
    return cancelled;
  }

  /** The longest any of the tenant's requests ran between dispatch and its end. */
  public long maxRunNanos() {
    return maxRunNanos;
  }

  /** The longest a request had run (since dispatch) when a runaway rule cancelled it. */
  public long maxElapsedAtCancelNanos() {
    return maxElapsedAtCancelNanos;
  }

  /** Logical requests the clients wanted answered (retries not counted). */
  public long requests() {
    return requests;
  }

  /** Attempts that reached the proxy (first tries and retries). */
  public long attempts() {
    return attempts;
  }

  public long admitted() {
    return admitted;
  }

  /** Attempts answered with success. */
  public long ok() {
    return ok;
  }

  public long shed(ShedReason r) {
    return shed[r.ordinal()];
  }

  public long shedTotal() {
    long s = 0;
    for (long v : shed) {
      s += v;
    }
    return s;
  }

  /** Admitted attempts that found no backend or connection. */
  public long unavailable() {
    return unavailable;
  }

  /** Admitted attempts the backend failed (crash, reset). */
  public long errors() {
    return errors;
  }

  /** Admitted attempts the proxy ended at its query timeout. */
  public long timeouts() {
    return timeouts;
  }

  public long clientTimeouts() {
    return clientTimeouts;
  }

  public long retries() {
    return retries;
  }

  /** Logical requests that ended without success after their last attempt. */
  public long gaveUp() {
    return gaveUp;
  }

  /** Logical requests that succeeded (on some attempt). */
  public long succeeded() {
    return succeeded;
  }

  public double ru() {
    return ru;
  }

  public double busyNanos() {
    return busyNanos;
  }

  /** End-to-end latency of successful requests (first attempt sent to success answered). */
  public LatencyHistogram latency() {
    return latency;
  }

  /** Successful requests per sample interval. */
  public Series goodput() {
    return goodput;
  }

  void add(TenantStats o) {
    requests += o.requests;
    attempts += o.attempts;
    admitted += o.admitted;
    ok += o.ok;
    for (int i = 0; i < shed.length; i++) {
      shed[i] += o.shed[i];
    }
    unavailable += o.unavailable;
    errors += o.errors;
    timeouts += o.timeouts;
    clientTimeouts += o.clientTimeouts;
    retries += o.retries;
    gaveUp += o.gaveUp;
    succeeded += o.succeeded;
    ru += o.ru;
    busyNanos += o.busyNanos;
    latency.add(o.latency);
  }
}

package io.mproxy.core.admission;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.ru.RuCost;

/**
 * An admitted request's permit. Admission charged an estimate; {@link #dispatched} starts the
 * latency meter (charged to the group every tick while in flight); {@link #complete} settles the
 * real cost against what was charged, feeds the balancer and the fingerprint stats, and ends the
 * ticket. A ticket ends exactly once: later calls are ignored.
 */
public final class Ticket {

  private final Gateway gateway;
  private final Request request;
  private final ResourceGroup group;
  private final Origin origin;
  private final RuWeights weights;
  private final double estimate;
  private final long admittedNanos;
  private Backend backend;
  private long dispatchNanos;
  private long startTick;
  private double latencyWeight;
  private boolean dispatched;
  private boolean done;
  /** When a queued ticket's wait ends: its sojourn is counted from then, not from the reservation. */
  private long queuedUntil;
  /** How the session stops this request on its backend (runaway {@code cancel}); null for none. */
  private volatile Runnable cancelHook;
  private volatile boolean cancelRequested;
  /** The priority gate this ticket holds a slot of, released when it ends; null for none. */
  private PriorityGate gate;

  Ticket(Gateway gateway, Request request, ResourceGroup group, Origin origin, RuWeights weights,
      double estimate) {
    this.gateway = gateway;
    this.request = request;
    this.group = group;
    this.origin = origin;
    this.weights = weights;
    this.estimate = estimate;
    this.admittedNanos = gateway.clock().nanoTime();
  }

  public Request request() {
    return request;
  }

  public String group() {
    return group.name();
  }

  public double estimate() {
    return estimate;
  }

  public Backend backend() {
    return backend;
  }

  /** The request was written to {@code to}: latency runs from now. */
  public void dispatched(Backend to) {
    if (dispatched || done) {
      return;
    }
    dispatched = true;
    backend = to;
    dispatchNanos = gateway.clock().nanoTime();
    latencyWeight = request.latencyCharged() ? weights.wLatency() : 0;
    startTick = group.startInflight(latencyWeight, dispatchNanos);
    gateway.sojourn(group, Math.max(0, dispatchNanos - Math.max(admittedNanos, queuedUntil)), dispatchNanos);
    to.started();
    gateway.runawayDispatched(this);
  }

  /**
   * The session says how to stop this request on its backend (PostgreSQL: a CancelRequest;
   * MySQL: KILL QUERY; Mongo: killOp). Core runs {@code hook} at most once, from its tick thread,
   * when a runaway {@code cancel} rule fires on this request while it runs: the hook must be
   * thread-safe (hop to the session's event loop) and must check that this request is still the
   * one running. The request still ends through {@link #complete}, with the backend's own error.
   */
  public void onCancel(Runnable hook) {
    cancelHook = hook;
  }

  /** Whether the ticket has ended (completed, refused or cancelled before dispatch). */
  public boolean ended() {
    return done;
  }

  /** Whether a runaway rule asked to cancel this request. */
  public boolean cancelRequested() {
    return cancelRequested;
  }

  /** Runs the session's cancel hook once; a request without one is only counted. */
  void cancelRunning() {
    Runnable hook = cancelHook;
    if (done || cancelRequested) {
      return;
    }
    cancelRequested = true;
    if (hook != null) {
      hook.run();
    }
  }

  long dispatchNanos() {
    return dispatchNanos;
  }

  /**
   * Ends the request. {@code bytesOut} are the reply bytes (what a read is charged for). A
   * request that never reached a backend is refunded its estimate.
   */
  public void complete(Outcome outcome, long bytesOut) {
    complete(outcome, request.bytesIn(), bytesOut);
  }

  /**
   * Ends a request whose size was only known at its end ({@code bytesIn}: everything the client
   * sent for it, e.g. a PostgreSQL extended-protocol batch or a COPY upload).
   */
  public void complete(Outcome outcome, long bytesIn, long bytesOut) {
    if (done) {
      return;
    }
    done = true;
    long now = gateway.clock().nanoTime();
    boolean write = request.kind().chargedAsWrite();
    double finalRu = 0;
    double charged = estimate;
    long latencyNanos = 0;
    if (dispatched) {
      latencyNanos = Math.max(0, now - dispatchNanos);
      double latencyMs = latencyNanos / 1e6;
      finalRu = RuCost.bytesPart(weights, write, bytesIn, bytesOut) + latencyWeight * latencyMs;
      charged += group.endInflight(latencyWeight, dispatchNanos, startTick);
      backend.finished(latencyNanos, finalRu, outcome == Outcome.ERROR || outcome == Outcome.TIMEOUT);
      if (!write) {
        group.recordRead(finalRu);
      }
    }
    group.charge(finalRu - charged);
    gateway.completed(this, outcome, finalRu, latencyNanos, now);
    releaseGate();
  }

  /**
   * Refuses an admitted request that never reached a backend (every circuit open, a runaway
   * rule): the estimate goes back to the group, the refusal is counted as shed with
   * {@code reason}, and the ticket ends. Returns the refusal the protocol turns into its error
   * reply; null when the ticket had already ended.
   */
  public io.mproxy.core.request.Refusal refuse(io.mproxy.core.request.ShedReason reason, long retryAfterMs,
      String detail) {
    if (done) {
      return null;
    }
    if (dispatched) {
      complete(Outcome.ERROR, 0);
    } else {
      cancel();
    }
    return gateway.refuse(request, group, origin, reason, retryAfterMs, detail);
  }

  void gate(PriorityGate g) {
    gate = g;
  }

  ResourceGroup groupState() {
    return group;
  }

  /** Ends a ticket refused before its caller ever saw it: the estimate goes back, nothing is reported. */
  void cancel() {
    if (done) {
      return;
    }
    done = true;
    group.charge(-estimate);
    releaseGate();
  }

  private void releaseGate() {
    PriorityGate g = gate;
    if (g != null) {
      gate = null;
      gateway.release(g);
    }
  }

  void queuedUntil(long nanos) {
    queuedUntil = nanos;
  }

  Origin origin() {
    return origin;
  }
}

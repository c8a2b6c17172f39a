package io.mproxy.core.admission;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Request;
import io.mproxy.core.ru.RuCost;
import io.mproxy.core.telemetry.ThreadSlots;

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
  private Backend backend;
  /**
   * One clock reading, by phase: before dispatch, when the ticket's wait for a backend began
   * (its admission, or the end of its queue wait) — the start of its sojourn; from dispatch on,
   * when it was dispatched — the start of its latency. One field, not two: a ticket is allocated
   * for every request.
   */
  private long mark;
  private long startTick;
  private boolean dispatched;
  private boolean done;
  /** How the session stops this request on its backend (runaway {@code cancel}); null for none. */
  private volatile Runnable cancelHook;
  private volatile boolean cancelRequested;
  /** The priority gate this ticket holds a slot of, released when it ends; null for none. */
  private PriorityGate gate;

  /** A ticket admitted at {@code admittedNanos}, the clock reading admission already took. */
  Ticket(Gateway gateway, Request request, ResourceGroup group, Origin origin, RuWeights weights,
      double estimate, long admittedNanos) {
    this.gateway = gateway;
    this.request = request;
    this.group = group;
    this.origin = origin;
    this.weights = weights;
    this.estimate = estimate;
    this.mark = admittedNanos;
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
    dispatched(to, gateway.clock().nanoTime());
  }

  /**
   * {@link #dispatched(Backend)} at {@code now}, a reading of the gateway's clock the caller has
   * just taken (e.g. once for a whole batch of pipelined commands read together).
   */
  public void dispatched(Backend to, long now) {
    if (dispatched || done) {
      return;
    }
    dispatched = true;
    backend = to;
    long waitingSince = mark;
    mark = now;
    startTick = group.startInflight(latencyWeight(), now);
    gateway.sojourn(group, Math.max(0, now - waitingSince), now);
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

  /** When the request was dispatched; 0 before. */
  long dispatchNanos() {
    return dispatched ? mark : 0;
  }

  /** RU per millisecond of backend latency: none for operations that wait by design. */
  private double latencyWeight() {
    return request.latencyCharged() ? weights.wLatency() : 0;
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
    complete(outcome, bytesIn, bytesOut, gateway.clock().nanoTime());
  }

  /**
   * {@link #complete(Outcome, long, long)} at {@code now}, a reading of the gateway's clock the
   * caller has just taken (e.g. once for a whole batch of replies read together). A reading
   * from before the dispatch counts as no latency.
   */
  public void complete(Outcome outcome, long bytesIn, long bytesOut, long now) {
    if (done) {
      return;
    }
    done = true;
    boolean write = request.kind().chargedAsWrite();
    double finalRu = 0;
    double charged = estimate;
    long latencyNanos = 0;
    boolean read = false;
    if (dispatched) {
      long dispatchNanos = mark;
      double latencyWeight = latencyWeight();
      latencyNanos = Math.max(0, now - dispatchNanos);
      double latencyMs = latencyNanos / 1e6;
      finalRu = RuCost.bytesPart(weights, write, bytesIn, bytesOut) + latencyWeight * latencyMs;
      charged += group.endInflight(latencyWeight, dispatchNanos, startTick);
      backend.finished(latencyNanos, finalRu, outcome == Outcome.ERROR || outcome == Outcome.TIMEOUT, now);
      read = !write;
    }
    group.settle(finalRu - charged, read, finalRu, now, ThreadSlots.current());
    gateway.completed(this, outcome, finalRu, latencyNanos, now);
    releaseGate(now);
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
    long now = gateway.clock().nanoTime();
    group.charge(-estimate, now);
    releaseGate(now);
  }

  private void releaseGate(long now) {
    PriorityGate g = gate;
    if (g != null) {
      gate = null;
      gateway.release(g, now);
    }
  }

  /** The ticket's queue wait ended at {@code nanos}: its sojourn before dispatch counts from then. */
  void queuedUntil(long nanos) {
    if (!dispatched && nanos - mark > 0) {
      mark = nanos;
    }
  }

  Origin origin() {
    return origin;
  }
}

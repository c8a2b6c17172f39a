package io.mproxy.core.admission;

import io.mproxy.core.classify.Classification;
import io.mproxy.core.classify.TenantClassifier;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.hint.HintPolicy;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.ru.RuCost;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.telemetry.ThreadSlots;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.Scheduler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol-agnostic core chain every request passes before it may use a backend:
 * classify (tenant → group and priority) → runaway rules ({@link Runaway}: demote or refuse a
 * watched fingerprint) → admission by RU (the group's token
 * bucket; reject with retry-after, or wait in a bounded queue). Routing and leasing follow in
 * the protocol session through {@link io.mproxy.core.cluster.Cluster}; settlement happens in
 * {@link Ticket#complete}.
 *
 * <p>Thread-safe; config is swapped atomically by {@link #reconfigure}.
 */
public final class Gateway {

  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  private final Clock clock;
  private final Telemetry telemetry;
  private final ResourceGroups groups;
  private final FingerprintStore fingerprints;
  private final Runaway runaway;
  private volatile Codel codel;
  private volatile PriorityGate gate;
  /** A gate replaced by a reload, drained by its own tickets and by ticks until empty. */
  private volatile PriorityGate retiring;
  private volatile TenantClassifier classifier;
  private volatile long generation;

  public Gateway(ProxyConfig config, Clock clock, Telemetry telemetry, FingerprintStore fingerprints) {
    this.clock = clock;
    this.telemetry = telemetry;
    this.fingerprints = fingerprints;
    this.groups = new ResourceGroups(clock, config.resourceGroups());
    this.classifier = new TenantClassifier(config);
    this.runaway = new Runaway(config.runaway(), clock, telemetry);
    config.codel().ifPresent(c -> {
      if (c.gated()) {
        this.gate = new PriorityGate(c, clock.nanoTime());
      } else {
        this.codel = new Codel(c, clock.nanoTime());
      }
    });
    this.generation = 1;
  }

  /** Applies a reloaded config: group limits change in place, the classifier is replaced. */
  public void reconfigure(ProxyConfig config, long newGeneration) {
    groups.apply(config.resourceGroups());
    applyCodel(config.codel().orElse(null));
    classifier = new TenantClassifier(config);
    runaway.apply(config.runaway());
    generation = newGeneration;
  }

  private synchronized void applyCodel(CodelConfig next) {
    Codel c = codel;
    PriorityGate g = gate;
    CodelConfig current = c != null ? c.config() : g != null ? g.config() : null;
    if (java.util.Objects.equals(current, next)) {
      return;
    }
    if (g != null && g.retunable(next)) {
      apply(g.reconfigure(next, clock.nanoTime()));
      return;
    }
    codel = next != null && !next.gated() ? new Codel(next, clock.nanoTime()) : null;
    gate = next != null && next.gated() ? new PriorityGate(next, clock.nanoTime()) : null;
    if (g != null) {
      retiring = g;
    }
  }

  /** Bumps whenever classification may have changed; sessions re-classify when it moves. */
  public long generation() {
    return generation;
  }

  public Clock clock() {
    return clock;
  }

  /** Where protocol sessions report what only they see (e.g. a hinted timeout that fired). */
  public Telemetry telemetry() {
    return telemetry;
  }

  public ResourceGroups groups() {
    return groups;
  }

  public FingerprintStore fingerprints() {
    return fingerprints;
  }

  /** Charges in-flight latency to every group; the server calls this every {@code server.ru_tick_ms}. */
  public void tick() {
    if (io.mproxy.core.fault.Faults.RU_TICK_SKIPPED.fires()) {
      return;
    }
    long now = clock.nanoTime();
    Codel c = codel;
    if (c != null) {
      c.tick(now);
    }
    PriorityGate g = gate;
    if (g != null) {
      apply(g.tick(now));
    }
    PriorityGate old = retiring;
    if (old != null) {
      apply(old.tick(now));
      if (old.queued() == 0 && old.inflight() <= 0) {
        retiring = null;
      }
    }
    groups.tick(now);
    runaway.tick(now);
  }

  /** Fingerprints a runaway rule watches now. */
  public int runawayWatched() {
    return runaway.watchedCount();
  }

  void runawayDispatched(Ticket t) {
    runaway.dispatched(t);
  }

  /** The gateway-wide priority gate, or null when the top-level {@code codel:} sets no max_inflight. */
  PriorityGate gate() {
    return gate;
  }

  /** Requests admitted and not yet completed through the priority gate (0 without one). */
  public int gateInflight() {
    PriorityGate g = gate;
    return g == null ? 0 : g.inflight();
  }

  /** The priority gate's slots, {@code codel.max_inflight} (0 without a gate). */
  public int gateMaxInflight() {
    PriorityGate g = gate;
    return g == null ? 0 : g.config().maxInflight();
  }

  /** The gate's slots only HIGH may take, {@code codel.reserve_high} as running now (0 without a gate). */
  public int gateReserveHigh() {
    PriorityGate g = gate;
    return g == null ? 0 : g.config().reserveHigh();
  }

  /** Requests waiting in the priority gate (0 without one). */
  public int gateQueued() {
    PriorityGate g = gate;
    return g == null ? 0 : g.queued();
  }

  /** The last step of admission: through the priority gate when there is one. */
  private void pass(Ticket ticket, Scheduler scheduler, AdmissionCallback callback, long now) {
    PriorityGate g = gate;
    if (g == null) {
      admitted(ticket, callback);
      return;
    }
    switch (g.enter(new PriorityGate.Waiter(ticket, scheduler, callback, now))) {
      case ADMITTED -> admitted(ticket, callback);
      case QUEUED -> { }
      case FULL -> shed(ticket, callback, ShedReason.QUEUE_FULL, g.config().maxWaitMs());
    }
  }

  private void admitted(Ticket ticket, AdmissionCallback callback) {
    ticket.groupState().countAdmitted();
    callback.admitted(ticket);
  }

  /**
   * Refuses a ticket RU admission had granted: refunds its estimate, then refuses as usual. The
   * gate sheds (CoDel, full queue) for a group in {@code mode: shadow} are only counted: the ticket
   * goes on outside the gate's slots, as a shadow group's RU refusals do.
   */
  private void shed(Ticket ticket, AdmissionCallback callback, ShedReason reason, long retryAfterMs) {
    ResourceGroup group = ticket.groupState();
    if (group.config().mode() == ResourceGroupConfig.Mode.SHADOW) {
      wouldRefuse(ticket.request(), group, reason);
      admitted(ticket, callback);
      return;
    }
    ticket.cancel();
    callback.refused(refuse(ticket.request(), ticket.groupState(), ticket.origin(), reason, retryAfterMs, null));
  }

  /** A gated ticket ended: its slot goes to the best waiter. */
  void release(PriorityGate g, long now) {
    apply(g.release(now));
  }

  private void apply(PriorityGate.Moves moves) {
    for (PriorityGate.Waiter w : moves.admit()) {
      w.scheduler().schedule(() -> admitted(w.ticket(), w.callback()), 0);
    }
    for (PriorityGate.Waiter w : moves.shed()) {
      w.scheduler().schedule(() -> shed(w.ticket(), w.callback(), ShedReason.CODEL, moves.retryAfterMs()), 0);
    }
  }

  /** The gateway-wide CoDel controller (top-level {@code codel:} without a gate), or null. */
  public Codel codel() {
    return codel;
  }

  /** A ticket reached its backend after waiting {@code sojournNanos} since it was admitted. */
  void sojourn(ResourceGroup group, long sojournNanos, long now) {
    Codel c = codel;
    if (c != null) {
      c.sample(sojournNanos, now);
    }
    Codel g = group.codel();
    if (g != null) {
      g.sample(sojournNanos, now);
    }
  }

  /** The CoDel controller that sheds {@code p} now (global first), or null when none does. */
  private Codel shedding(ResourceGroup group, Priority p) {
    Codel c = codel;
    if (c != null && c.sheds(p)) {
      return c;
    }
    Codel g = group.codel();
    return g != null && g.sheds(p) ? g : null;
  }

  public Classification classify(TenantIdentity tenant) {
    return classifier.classify(tenant);
  }

  /**
   * Runs the admission chain for one request. The callback runs on the caller's thread when the
   * answer is immediate, else through {@code waitScheduler} (the caller's event loop) after a
   * queue wait.
   */
  public void admit(Request request, Classification classification, Origin origin, RuWeights weights,
      Scheduler waitScheduler, AdmissionCallback callback) {
    // the one clock reading of admission: bucket refill, runaway watch, ticket, gate entry
    admit(request, classification, origin, weights, waitScheduler, callback, clock.nanoTime());
  }

  /**
   * {@link #admit(Request, Classification, Origin, RuWeights, Scheduler, AdmissionCallback)} at
   * {@code now}, a reading of this gateway's clock the caller has just taken (e.g. once for a
   * whole batch of pipelined commands read together).
   */
  public void admit(Request request, Classification classification, Origin origin, RuWeights weights,
      Scheduler waitScheduler, AdmissionCallback callback, long now) {
    classification = hinted(request, classification);
    request.classify(classification);
    ResourceGroup group = groups.get(classification.group());
    double mean = request.kind().chargedAsWrite() ? 0 : fingerprints.meanRu(request.fingerprint());
    if (mean <= 0 && !request.kind().chargedAsWrite()) {
      mean = group.meanReadRu();
    }
    double estimate = RuCost.estimate(weights, request.kind().chargedAsWrite(), request.bytesIn(), mean);
    // RU asked is counted on every path below: with the charge and the admission when granted
    Runaway.Verdict runawayVerdict = runaway.atAdmission(request, estimate, now);
    if (runawayVerdict != null) {
      if (runawayVerdict.action() != io.mproxy.core.config.RunawayRule.Action.DEMOTE) {
        group.countAsked(estimate);
        callback.refused(refuse(request, group, origin, ShedReason.RUNAWAY, runawayVerdict.retryAfterMs(),
            "runaway rule " + runawayVerdict.rule().name()));
        return;
      }
      request.classify(request.group(), Priority.LOW);
    }
    ResourceGroupConfig gc = group.config();
    boolean shadow = gc.mode() == ResourceGroupConfig.Mode.SHADOW;
    Codel shedBy = shedding(group, request.priority());
    if (shedBy != null) {
      if (!shadow) {
        group.countAsked(estimate);
        callback.refused(refuse(request, group, origin, ShedReason.CODEL, shedBy.intervalMs(), null));
        return;
      }
      wouldRefuse(request, group, ShedReason.CODEL);
    }
    boolean queueMode = gc.onExhausted() == ResourceGroupConfig.OnExhausted.QUEUE;
    boolean queueSlot = queueMode && group.tryEnqueue();
    long maxWait = queueSlot ? TimeUnit.MILLISECONDS.toNanos(gc.maxQueueMs()) : 0;
    int slot = ThreadSlots.current();
    long r = group.bucket().acquire(estimate, maxWait, now, slot);
    if (r == TokenBucket.GRANTED) {
      if (queueSlot) {
        group.dequeue();
      }
      Ticket ticket = new Ticket(this, request, group, origin, weights, estimate, now);
      if (gate == null) {
        // no priority gate to pass: admitted now, counted with the estimate in one look-up
        group.countGranted(estimate, true, slot);
        callback.admitted(ticket);
        return;
      }
      group.countGranted(estimate, false, slot);
      pass(ticket, waitScheduler, callback, now);
      return;
    }
    group.countAsked(estimate);
    if (r > 0) {
      group.countCharged(estimate);
      long enqueued = now;
      Ticket ticket = new Ticket(this, request, group, origin, weights, estimate, now);
      waitScheduler.schedule(() -> {
        long woke = clock.nanoTime();
        ticket.queuedUntil(woke);
        group.dequeue();
        telemetry.queueWait(group.name(), request.priority(), woke - enqueued);
        pass(ticket, waitScheduler, callback, woke);
      }, r + io.mproxy.core.fault.Faults.queueWakeDelayNanos());
      return;
    }
    if (queueSlot) {
      group.dequeue();
    }
    long retryAfterMs = Math.max(1, (-(r + 1) + 999_999) / 1_000_000);
    ShedReason reason = queueMode && !queueSlot ? ShedReason.QUEUE_FULL : ShedReason.RU_LIMIT;
    if (shadow) {
      wouldRefuse(request, group, reason);
      group.bucket().settle(estimate);
      group.countCharged(estimate);
      pass(new Ticket(this, request, group, origin, weights, estimate, now), waitScheduler, callback, now);
      return;
    }
    callback.refused(refuse(request, group, origin, reason, retryAfterMs, null));
  }

  /** The classification after the request's hints, counted when there were any. */
  private Classification hinted(Request request, Classification classification) {
    if (request.hints() == io.mproxy.core.hint.QueryHints.NONE) {
      return classification;
    }
    HintPolicy.Decision d = HintPolicy.apply(request, classification, groups::exists);
    if (d.result() != HintPolicy.Result.NONE) {
      telemetry.hint(d.classification().group(), d.result().label());
    }
    return d.classification();
  }

  /** Shadow mode: counts and logs what enforcement would have refused, and refuses nothing. */
  private void wouldRefuse(Request request, ResourceGroup group, ShedReason reason) {
    if (reason == ShedReason.CODEL) {
      group.countWouldShed();
    } else {
      group.countWouldReject();
    }
    telemetry.wouldShed(group.name(), request.priority(), reason);
    if (LOG.isDebugEnabled()) {
      LOG.debug("shadow: group={} priority={} reason={} {}", group.name(), request.priority().label(),
          reason.label(), reason == ShedReason.CODEL ? "would_shed" : "would_reject");
    }
  }

  /**
   * Refuses a request after admission (no backend, pool exhausted…) or before it (limits):
   * counts it and returns the refusal the protocol turns into its error reply.
   */
  public Refusal refuse(Request request, ResourceGroup group, Origin origin, ShedReason reason,
      long retryAfterMs, String detail) {
    group.countRejected();
    telemetry.shed(group.name(), request.priority(), reason);
    long now = clock.nanoTime();
    telemetry.requestCompleted(origin.listener(), origin.protocol(), group.name(), Outcome.REJECTED,
        now - request.arrivalNanos());
    telemetry.requestEnded(request, origin.listener(), origin.protocol(), group.name(), Outcome.REJECTED, 0, now);
    return Refusal.rejected(group.name(), reason, retryAfterMs, detail);
  }

  void completed(Ticket t, Outcome outcome, double ru, long latencyNanos, long now) {
    Request req = t.request();
    runaway.completed(t, ru, latencyNanos, now);
    if (ru > 0) {
      telemetry.ruCharged(t.group(), req.kind().chargedAsWrite(), ru);
      fingerprints.record(req.fingerprint(), t.origin().protocol(), ru, latencyNanos);
      telemetry.requestCharged(req.tenant(), t.group(), req.fingerprint(), ru);
    }
    telemetry.requestCompleted(t.origin().listener(), t.origin().protocol(), t.group(), outcome,
        now - req.arrivalNanos());
    telemetry.requestEnded(req, t.origin().listener(), t.origin().protocol(), t.group(), outcome, ru, now);
  }
}

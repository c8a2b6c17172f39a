package io.mproxy.core.admission;

import io.mproxy.core.classify.Classification;
import io.mproxy.core.classify.TenantClassifier;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.ru.RuCost;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.Scheduler;
import java.util.concurrent.TimeUnit;

/**
 * The protocol-agnostic core chain every request passes before it may use a backend:
 * classify (tenant → group and priority) → runaway rules → admission by RU (the group's token
 * bucket; reject with retry-after, or wait in a bounded queue). Routing and leasing follow in
 * the protocol session through {@link io.mproxy.core.cluster.Cluster}; settlement happens in
 * {@link Ticket#complete}.
 *
 * <p>Thread-safe; config is swapped atomically by {@link #reconfigure}.
 */
public final class Gateway {

  private final Clock clock;
  private final Telemetry telemetry;
  private final ResourceGroups groups;
  private final FingerprintStore fingerprints;
  private volatile TenantClassifier classifier;
  private volatile long generation;

  public Gateway(ProxyConfig config, Clock clock, Telemetry telemetry, FingerprintStore fingerprints) {
    this.clock = clock;
    this.telemetry = telemetry;
    this.fingerprints = fingerprints;
    this.groups = new ResourceGroups(clock, config.resourceGroups());
    this.classifier = new TenantClassifier(config);
    this.generation = 1;
  }

  /** Applies a reloaded config: group limits change in place, the classifier is replaced. */
  public void reconfigure(ProxyConfig config, long newGeneration) {
    groups.apply(config.resourceGroups());
    classifier = new TenantClassifier(config);
    generation = newGeneration;
  }

  /** Bumps whenever classification may have changed; sessions re-classify when it moves. */
  public long generation() {
    return generation;
  }

  public Clock clock() {
    return clock;
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
    groups.tick();
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
    request.classify(classification.group(), classification.priority());
    ResourceGroup group = groups.get(classification.group());
    double mean = request.kind().chargedAsWrite() ? 0 : fingerprints.meanRu(request.fingerprint());
    double estimate = RuCost.estimate(weights, request.kind().chargedAsWrite(), request.bytesIn(), mean);
    group.countAsked(estimate);
    ResourceGroupConfig gc = group.config();
    boolean queueMode = gc.onExhausted() == ResourceGroupConfig.OnExhausted.QUEUE;
    boolean queueSlot = queueMode && group.tryEnqueue();
    long maxWait = queueSlot ? TimeUnit.MILLISECONDS.toNanos(gc.maxQueueMs()) : 0;
    long r = group.bucket().acquire(estimate, maxWait);
    if (r == TokenBucket.GRANTED) {
      if (queueSlot) {
        group.dequeue();
      }
      group.countAdmitted();
      group.countCharged(estimate);
      callback.admitted(new Ticket(this, request, group, origin, weights, estimate));
      return;
    }
    if (r > 0) {
      group.countCharged(estimate);
      long enqueued = clock.nanoTime();
      Ticket ticket = new Ticket(this, request, group, origin, weights, estimate);
      waitScheduler.schedule(() -> {
        group.dequeue();
        group.countAdmitted();
        telemetry.queueWait(group.name(), request.priority(), clock.nanoTime() - enqueued);
        callback.admitted(ticket);
      }, r + io.mproxy.core.fault.Faults.queueWakeDelayNanos());
      return;
    }
    if (queueSlot) {
      group.dequeue();
    }
    long retryAfterMs = Math.max(1, (-(r + 1) + 999_999) / 1_000_000);
    ShedReason reason = queueMode && !queueSlot ? ShedReason.QUEUE_FULL : ShedReason.RU_LIMIT;
    callback.refused(refuse(request, group, origin, reason, retryAfterMs, null));
  }

  /**
   * Refuses a request after admission (no backend, pool exhausted…) or before it (limits):
   * counts it and returns the refusal the protocol turns into its error reply.
   */
  public Refusal refuse(Request request, ResourceGroup group, Origin origin, ShedReason reason,
      long retryAfterMs, String detail) {
    group.countRejected();
    telemetry.shed(group.name(), request.priority(), reason);
    telemetry.requestCompleted(origin.listener(), origin.protocol(), group.name(), Outcome.REJECTED,
        clock.nanoTime() - request.arrivalNanos());
    return Refusal.rejected(group.name(), reason, retryAfterMs, detail);
  }

  void completed(Ticket t, Outcome outcome, double ru, long latencyNanos, long now) {
    Request req = t.request();
    if (ru > 0) {
      telemetry.ruCharged(t.group(), req.kind().chargedAsWrite(), ru);
      fingerprints.record(req.fingerprint(), t.origin().protocol(), ru, latencyNanos);
      telemetry.requestCharged(req.tenant(), t.group(), req.fingerprint(), ru);
    }
    telemetry.requestCompleted(t.origin().listener(), t.origin().protocol(), t.group(), outcome,
        now - req.arrivalNanos());
  }
}

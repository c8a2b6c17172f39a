package io.mproxy.core.admission;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.RunawayConfig;
import io.mproxy.core.config.RunawayRule;
import io.mproxy.core.config.RunawayRule.Action;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Request;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runaway stage of admission (TiDB's runaway-query rules, per fingerprint). It learns from
 * completed requests (RU, elapsed time) and from requests still running (elapsed, judged every
 * tick), keeps the fingerprints that broke a rule "watched" until the rule's cooldown passes
 * without another violation, and tells admission what a watched fingerprint's next request gets:
 * nothing (watch), LOW priority (demote), its own token bucket (throttle) or a refusal (reject).
 * Running requests past a {@code cancel} rule's {@code elapsed_ms_above} are cancelled through
 * the hook their session registered ({@link Ticket#onCancel}).
 *
 * <p>Bounded: at most {@link #MAX_WATCHED} watches (expired ones are purged every tick; past the
 * bound a new violation is counted but not watched); the running set holds only dispatched
 * tickets an elapsed rule applies to, each removed when it completes. Thread-safe; the rules are
 * an immutable list swapped on reload.
 */
final class Runaway {

  static final int MAX_WATCHED = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(Runaway.class);

  /** What admission does with a request. */
  record Verdict(RunawayRule rule, Action action, long retryAfterMs) {
  }

  private record Key(String rule, String fingerprint) {
  }

  /** A watched fingerprint under one rule: until when, and its throttle bucket when it has one. */
  private static final class Watch {
    volatile long untilNanos;
    final TokenBucket throttle;

    Watch(long untilNanos, TokenBucket throttle) {
      this.untilNanos = untilNanos;
      this.throttle = throttle;
    }
  }

  private final Clock clock;
  private final Telemetry telemetry;
  private final Map<Key, Watch> watched = new ConcurrentHashMap<>();
  /** A tracked running ticket: its dispatch order (ticks judge in that order) and whether a rule fired. */
  private record Running(long seq, boolean fired) {
  }

  /** Dispatched tickets an elapsed rule applies to. */
  private final Map<Ticket, Running> running = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong dispatchSeq = new java.util.concurrent.atomic.AtomicLong();
  private volatile List<RunawayRule> rules;
  private volatile boolean anyElapsed;

  Runaway(RunawayConfig config, Clock clock, Telemetry telemetry) {
    this.clock = clock;
    this.telemetry = telemetry;
    apply(config);
  }

  /** Replaces the rules; watches of rules that are gone or changed are dropped. */
  void apply(RunawayConfig config) {
    List<RunawayRule> next = config.rules();
    List<RunawayRule> old = rules;
    rules = next;
    anyElapsed = next.stream().anyMatch(r -> r.elapsedMsAbove() > 0);
    if (old != null) {
      watched.keySet().removeIf(k -> next.stream().noneMatch(r -> r.name().equals(k.rule())
          && old.stream().anyMatch(o -> o.equals(r))));
    }
  }

  List<RunawayRule> rules() {
    return rules;
  }

  /** Fingerprints watched now (for status). */
  int watchedCount() {
    long now = clock.nanoTime();
    int n = 0;
    for (Watch w : watched.values()) {
      if (w.untilNanos > now) {
        n++;
      }
    }
    return n;
  }

  /**
   * The first rule that acts on this request, admitted at {@code now}, or null to go on. Watch
   * and cancel rules never act here. A shadow rule's would-be action is counted and the search
   * goes on.
   */
  Verdict atAdmission(Request request, double estimate, long now) {
    List<RunawayRule> rs = rules;
    if (rs.isEmpty()) {
      return null;
    }
    String fp = request.fingerprint();
    String id = null;
    for (RunawayRule r : rs) {
      if (r.action() == Action.WATCH || r.action() == Action.CANCEL) {
        continue;
      }
      if (r.fingerprint() != null && id == null && fp != null && !r.fingerprint().equals(fp)) {
        id = FingerprintStore.id(fp);
      }
      if (!matches(r, request, id)) {
        continue;
      }
      Watch w;
      if (r.always()) {
        w = watched.computeIfAbsent(new Key(r.name(), fp), k -> new Watch(Long.MAX_VALUE, bucket(r)));
      } else {
        w = watched.get(new Key(r.name(), fp));
        if (w == null || w.untilNanos <= now) {
          continue;
        }
      }
      long retryAfterMs = r.always() ? -1 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(w.untilNanos - now));
      if (r.action() == Action.THROTTLE) {
        long t = w.throttle.acquire(estimate, 0);
        if (t == TokenBucket.GRANTED) {
          continue;
        }
        retryAfterMs = Math.max(1, (-(t + 1) + 999_999) / 1_000_000);
        if (!r.enforced()) {
          w.throttle.settle(estimate);
        }
      }
      count(r, r.action());
      if (r.enforced()) {
        return new Verdict(r, r.action(), retryAfterMs);
      }
      if (r.action() != Action.DEMOTE) {
        telemetry.wouldShed(request.group(), request.priority(), io.mproxy.core.request.ShedReason.RUNAWAY);
      }
    }
    return null;
  }

  /** A ticket reached its backend: running requests an elapsed rule applies to are tracked. */
  void dispatched(Ticket t) {
    if (!anyElapsed) {
      return;
    }
    Request req = t.request();
    String id = null;
    for (RunawayRule r : rules) {
      if (r.elapsedMsAbove() <= 0) {
        continue;
      }
      if (id == null && r.fingerprint() != null && req.fingerprint() != null) {
        id = FingerprintStore.id(req.fingerprint());
      }
      if (matches(r, req, id)) {
        running.put(t, new Running(dispatchSeq.incrementAndGet(), false));
        return;
      }
    }
  }

  /** A ticket ended: its RU and elapsed time are judged against every rule that matches it. */
  void completed(Ticket t, double ru, long latencyNanos, long now) {
    // most deployments track nothing: skip the hash of every completing ticket then
    Running tracked = running.isEmpty() ? null : running.remove(t);
    boolean fired = tracked != null && tracked.fired();
    List<RunawayRule> rs = rules;
    if (rs.isEmpty() || t.request().fingerprint() == null) {
      return;
    }
    Request req = t.request();
    String id = null;
    for (RunawayRule r : rs) {
      if (r.always()) {
        continue;
      }
      if (id == null && r.fingerprint() != null) {
        id = FingerprintStore.id(req.fingerprint());
      }
      if (!matches(r, req, id)) {
        continue;
      }
      boolean overRu = r.ruAbove() > 0 && ru > r.ruAbove();
      boolean overElapsed = !fired && r.elapsedMsAbove() > 0
          && latencyNanos > TimeUnit.MILLISECONDS.toNanos(r.elapsedMsAbove());
      if (overRu || overElapsed) {
        violated(r, req, now, overRu ? "ru=" + Math.round(ru) : "elapsed_ms=" + latencyNanos / 1_000_000);
      }
    }
  }

  /**
   * Every tick: running requests past an elapsed rule make their fingerprint watched (at once,
   * not when they finally end), and a {@code cancel} rule cancels them; expired watches go.
   */
  void tick(long now) {
    if (!running.isEmpty()) {
      List<Map.Entry<Ticket, Running>> open = new ArrayList<>();
      for (Map.Entry<Ticket, Running> e : running.entrySet()) {
        if (!e.getValue().fired()) {
          open.add(Map.entry(e.getKey(), e.getValue()));
        }
      }
      // dispatch order, not hash order: the simulation replays cancels identically
      open.sort(java.util.Comparator.comparingLong(e -> e.getValue().seq()));
      for (Map.Entry<Ticket, Running> e : open) {
        judgeRunning(e.getKey(), e.getValue(), now);
      }
    }
    if (!watched.isEmpty()) {
      watched.values().removeIf(w -> w.untilNanos <= now);
    }
  }

  private void judgeRunning(Ticket t, Running tracked, long now) {
    long elapsed = now - t.dispatchNanos();
    Request req = t.request();
    String id = null;
    for (RunawayRule r : rules) {
      if (r.elapsedMsAbove() <= 0 || elapsed <= TimeUnit.MILLISECONDS.toNanos(r.elapsedMsAbove())) {
        continue;
      }
      if (id == null && r.fingerprint() != null && req.fingerprint() != null) {
        id = FingerprintStore.id(req.fingerprint());
      }
      if (!matches(r, req, id)) {
        continue;
      }
      if (running.replace(t, tracked, new Running(tracked.seq(), true))) {
        violated(r, req, now, "running elapsed_ms=" + elapsed / 1_000_000);
        if (r.action() == Action.CANCEL) {
          count(r, Action.CANCEL);
          if (r.enforced()) {
            t.cancelRunning();
          }
        }
      }
      return;
    }
  }

  private void violated(RunawayRule r, Request req, long now, String why) {
    String fp = req.fingerprint();
    if (fp == null) {
      return;
    }
    long until = now + TimeUnit.MILLISECONDS.toNanos(r.cooldownMs());
    Key key = new Key(r.name(), fp);
    Watch w = watched.get(key);
    if (r.action() == Action.WATCH) {
      count(r, Action.WATCH);
    }
    if (w != null) {
      w.untilNanos = Math.max(w.untilNanos, until);
      return;
    }
    if (watched.size() >= MAX_WATCHED) {
      watched.values().removeIf(x -> x.untilNanos <= now);
      if (watched.size() >= MAX_WATCHED) {
        return;
      }
    }
    watched.put(key, new Watch(until, bucket(r)));
    LOG.info("runaway: rule={} action={} mode={} group={} fingerprint={} ({}) watched for {} ms", r.name(),
        r.action().label(), r.mode().label(), req.group(), fp, why, r.cooldownMs());
  }

  private TokenBucket bucket(RunawayRule r) {
    if (r.action() != Action.THROTTLE) {
      return null;
    }
    double rate = Math.max(1e-9, r.throttleRuPerSec());
    return new TokenBucket(clock, rate, Math.max(1, rate), 0);
  }

  private void count(RunawayRule r, Action a) {
    telemetry.runawayAction(r.name(), a.label(), r.mode().label());
  }

  private static boolean matches(RunawayRule r, Request req, String id) {
    if (r.group() != null && !r.group().equals(req.group())) {
      return false;
    }
    String f = r.fingerprint();
    if (f == null) {
      return true;
    }
    String fp = req.fingerprint();
    return fp != null && (f.equals(fp) || f.equals(id));
  }

  /** The priority a demoted request runs at. */
  static Priority demoted() {
    return Priority.LOW;
  }
}

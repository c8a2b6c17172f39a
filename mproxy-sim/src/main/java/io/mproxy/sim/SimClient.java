package io.mproxy.sim;

import io.mproxy.sim.SimConfig.Closed;
import io.mproxy.sim.SimConfig.Open;
import io.mproxy.sim.SimConfig.RetryPolicy;
import io.mproxy.sim.SimConfig.TenantSpec;
import java.util.concurrent.TimeUnit;

/**
 * The clients of one tenant: an open-loop Poisson source or a closed loop of users with think
 * time, each logical request retried after a failure by the tenant's policy (at once, or with
 * full-jitter exponential back-off that may honour the refusal's retry-after), and abandoned by
 * the client at its timeout. Clients stop starting requests at the end of the run's duration;
 * retries stop halfway into the drain so every request is finished before the run ends.
 */
final class SimClient {

  /** One logical request: what the user wanted, across its attempts. */
  record Call(SimClient client, long id, long startNanos, int[] attempts) {
  }

  private final int tenant;
  private final TenantSpec spec;
  private final ProxyNode node;
  private final VirtualTime time;
  private final SimRandom random;
  private final EventLog log;
  private final TenantStats stats;
  private final long stopNanos;
  private final long retryStopNanos;
  private final long[] ids;

  SimClient(int tenant, TenantSpec spec, ProxyNode node, VirtualTime time, SimRandom random, EventLog log,
      TenantStats stats, SimConfig config, long[] ids) {
    this.tenant = tenant;
    this.spec = spec;
    this.node = node;
    this.time = time;
    this.random = random;
    this.log = log;
    this.stats = stats;
    this.stopNanos = TimeUnit.MILLISECONDS.toNanos(Math.min(spec.stopMs(), config.durationMs()));
    this.retryStopNanos = TimeUnit.MILLISECONDS.toNanos(config.durationMs() + config.drainMs() / 2);
    this.ids = ids;
  }

  void start() {
    long startNanos = TimeUnit.MILLISECONDS.toNanos(spec.startMs());
    if (spec.arrival() instanceof Open open) {
      if (open.perSec() > 0) {
        time.at(startNanos + nextGap(open.perSec()), () -> arrival(open.perSec()));
      }
    } else if (spec.arrival() instanceof Closed closed) {
      for (int u = 0; u < closed.users(); u++) {
        time.at(startNanos + think(closed.thinkMs()), this::newCall);
      }
    }
  }

  private long nextGap(double perSec) {
    return Math.max(1, (long) (random.exponential(1e9 / perSec)));
  }

  private long think(double thinkMs) {
    return Math.max(0, (long) (random.exponential(thinkMs * 1e6)));
  }

  private void arrival(double perSec) {
    if (time.nanoTime() >= stopNanos) {
      return;
    }
    newCall();
    time.schedule(() -> arrival(perSec), nextGap(perSec));
  }

  private void newCall() {
    if (time.nanoTime() >= stopNanos) {
      return;
    }
    stats.requests++;
    Call call = new Call(this, ids[0]++, time.nanoTime(), new int[1]);
    send(call);
  }

  private void send(Call call) {
    call.attempts()[0]++;
    Attempt a = new Attempt(ids[1]++, call, random.chance(spec.writeFraction()));
    if (spec.clientTimeoutMs() > 0) {
      time.schedule(() -> {
        if (!a.answered && !a.abandoned) {
          a.abandoned = true;
          stats.clientTimeouts++;
          failed(call, 0);
        }
      }, TimeUnit.MILLISECONDS.toNanos(spec.clientTimeoutMs()));
    }
    node.handle(tenant, a, stats);
  }

  /** The proxy answered an attempt (the client may have abandoned it already). */
  void answered(Attempt a, Answer answer) {
    switch (answer.kind()) {
      case OK -> stats.ok++;
      case SHED -> stats.shed[answer.reason().ordinal()]++;
      case UNAVAILABLE -> stats.unavailable++;
      case ERROR -> stats.errors++;
      case TIMEOUT -> stats.timeouts++;
      default -> throw new IllegalStateException(answer.kind().toString());
    }
    if (a.abandoned) {
      return;
    }
    a.abandoned = true;
    if (answer.kind() == Answer.Kind.OK) {
      long now = time.nanoTime();
      stats.succeeded++;
      stats.latency.recordNanos(now - a.call.startNanos());
      stats.goodput.add(now, 1);
      finished();
      return;
    }
    failed(a.call, answer.retryAfterMs());
  }

  private void failed(Call call, long retryAfterMs) {
    RetryPolicy r = spec.retry();
    long now = time.nanoTime();
    if (call.attempts()[0] >= r.maxAttempts() || now >= retryStopNanos) {
      stats.gaveUp++;
      log.record(now, EventLog.Kind.GIVE_UP, call.id(), tenant);
      finished();
      return;
    }
    stats.retries++;
    long delay = 0;
    if (r.baseMs() > 0) {
      double ceiling = Math.min(r.capMs(), r.baseMs() * (double) (1L << Math.min(20, call.attempts()[0] - 1)));
      delay = (long) (random.nextDouble() * ceiling * 1e6);
    }
    if (r.honourRetryAfter() && retryAfterMs > 0) {
      delay = Math.max(delay, TimeUnit.MILLISECONDS.toNanos(retryAfterMs));
    }
    log.record(now, EventLog.Kind.RETRY, call.id(), delay);
    time.schedule(() -> send(call), delay);
  }

  /** A logical request is over: a closed-loop user thinks, then sends the next. */
  private void finished() {
    if (spec.arrival() instanceof Closed closed) {
      time.schedule(this::newCall, think(closed.thinkMs()));
    }
  }
}

package io.mproxy.sim;

import io.mproxy.core.admission.TokenBucket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.fault.Faults;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A model of {@link io.mproxy.core.pool.BackendPool}'s decisions for one proxy node and one
 * backend, in transaction-pooling style (a connection carries one request at a time). The
 * production pool is bound to Netty channels and event loops, so the simulation cannot run it;
 * this model keeps its rules: at most {@code max_size} connections, {@code min_idle} kept open,
 * opens capped by {@code max_opens_per_sec} (a production {@link TokenBucket}), no opens while the
 * backend's back-off runs (production {@link Backend#tryable()}), a failed open marks the backend
 * down with production back-off, a bounded FIFO of waiters failed after {@code acquire_timeout_ms},
 * waiters failed at once when the backend is down and nothing is open, probes skipped while every
 * connection is busy.
 */
final class SimPool {

  interface Lease {
    void granted(SimBackend.Conn conn);

    void failed(String reason);
  }

  private record Waiter(Lease lease, long deadlineNanos) {
  }

  private final int node;
  private final SimBackend server;
  private final Backend backend;
  private final PoolConfig config;
  private final HealthConfig health;
  private final int maxWaiters;
  private final VirtualTime time;
  private final EventLog log;
  private final TokenBucket opens;
  private final List<SimBackend.Conn> idle = new ArrayList<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int busy;
  private int opening;
  private long openFailures;

  SimPool(int node, SimBackend server, Backend backend, PoolConfig config, HealthConfig health, int maxWaiters,
      VirtualTime time, EventLog log) {
    this.node = node;
    this.server = server;
    this.backend = backend;
    this.config = config;
    this.health = health;
    this.maxWaiters = maxWaiters;
    this.time = time;
    this.log = log;
    this.opens = new TokenBucket(time, config.maxOpensPerSec(), config.maxOpensPerSec(), 0);
    server.onCrash(this::serverCrashed);
  }

  Backend backend() {
    return backend;
  }

  SimBackend server() {
    return server;
  }

  int waiting() {
    return waiters.size();
  }

  int connections() {
    return idle.size() + busy;
  }

  int opening() {
    return opening;
  }

  long openFailures() {
    return openFailures;
  }

  void acquire(Lease lease) {
    SimBackend.Conn c = takeIdle();
    if (c != null) {
      busy++;
      lease.granted(c);
      return;
    }
    if (waiters.size() >= maxWaiters) {
      lease.failed("pool_exhausted");
      return;
    }
    waiters.addLast(new Waiter(lease, time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.acquireTimeoutMs())));
    maybeOpen(true);
  }

  /** Gives a connection back; a connection whose state is unknown (timeout, error) is closed. */
  void release(SimBackend.Conn c, boolean reusable) {
    busy--;
    if (!reusable || !c.alive()) {
      server.close(c);
      maybeOpen(!waiters.isEmpty());
      return;
    }
    Waiter w = waiters.pollFirst();
    if (w != null) {
      busy++;
      time.schedule(() -> w.lease.granted(c), 0);
      return;
    }
    idle.add(c);
  }

  /** Upkeep every 200 ms: expire waiters, keep min_idle, retry an open for waiters. */
  void maintain() {
    long now = time.nanoTime();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (now >= w.deadlineNanos) {
        it.remove();
        time.schedule(() -> w.lease.failed("acquire_timeout"), 0);
      }
    }
    while (connections() + opening < config.minIdle() && maybeOpen(false)) {
      // towards min_idle
    }
    if (!waiters.isEmpty() && opening == 0) {
      maybeOpen(true);
    }
  }

  /** Health probe: on an idle connection, or by opening one; skipped when all are busy. */
  void probe() {
    SimBackend.Conn c = takeIdle();
    if (c == null) {
      if (busy == 0 && opening == 0) {
        maybeOpen(false);
      }
      return;
    }
    busy++;
    boolean[] done = new boolean[1];
    var timer = time.schedule(() -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      markDown("probe timed out");
      release(c, false);
    }, TimeUnit.MILLISECONDS.toNanos(health.timeoutMs()));
    server.probe(c, ok -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      timer.cancel();
      if (ok) {
        markUp();
        release(c, true);
      } else {
        markDown("probe failed");
        release(c, false);
      }
    });
  }

  private SimBackend.Conn takeIdle() {
    while (!idle.isEmpty()) {
      SimBackend.Conn c = idle.remove(idle.size() - 1);
      if (c.alive()) {
        return c;
      }
      server.close(c);
    }
    return null;
  }

  private boolean maybeOpen(boolean forWaiter) {
    if (connections() + opening >= config.maxSize()) {
      return false;
    }
    if (forWaiter && opening >= waiters.size()) {
      return false;
    }
    if (!backend.tryable()) {
      if (forWaiter && opening == 0 && usable() == 0) {
        failWaiters("backend_down");
      }
      return false;
    }
    if (opens.acquire(1, 0) != TokenBucket.GRANTED) {
      return false;
    }
    open();
    return true;
  }

  private int usable() {
    int n = busy;
    for (SimBackend.Conn c : idle) {
      if (c.alive()) {
        n++;
      }
    }
    return n;
  }

  private void open() {
    opening++;
    log.record(time.nanoTime(), EventLog.Kind.OPEN, node, server.index);
    boolean[] done = new boolean[1];
    var timer = time.schedule(() -> {
      if (!done[0]) {
        done[0] = true;
        openFailed("connect timed out");
      }
    }, TimeUnit.MILLISECONDS.toNanos(config.connectTimeoutMs()));
    if (Faults.POOL_OPEN_FAILS.fires()) {
      log.record(time.nanoTime(), EventLog.Kind.FAULT, Faults.all().indexOf(Faults.POOL_OPEN_FAILS), node);
      done[0] = true;
      timer.cancel();
      time.schedule(() -> openFailed("injected open failure"), 100_000);
      return;
    }
    server.connect(conn -> {
      if (done[0]) {
        server.close(conn);
        return;
      }
      done[0] = true;
      timer.cancel();
      opened(conn);
    }, () -> {
      if (!done[0]) {
        done[0] = true;
        timer.cancel();
        openFailed("connection refused");
      }
    });
  }

  private void opened(SimBackend.Conn c) {
    opening--;
    markUp();
    Waiter w = waiters.pollFirst();
    if (w != null) {
      busy++;
      w.lease.granted(c);
    } else {
      idle.add(c);
    }
  }

  private void openFailed(String why) {
    openFailures++;
    log.record(time.nanoTime(), EventLog.Kind.OPEN_FAIL, node, server.index);
    opening--;
    markDown(why);
    if (opening == 0 && usable() == 0) {
      failWaiters("backend_down");
    }
  }

  private void failWaiters(String reason) {
    List<Waiter> failed = new ArrayList<>(waiters);
    waiters.clear();
    for (Waiter w : failed) {
      time.schedule(() -> w.lease.failed(reason), 0);
    }
  }

  private void markUp() {
    if (!backend.healthy()) {
      log.record(time.nanoTime(), EventLog.Kind.PROBE_UP, node, server.index);
    }
    backend.markUp();
  }

  private void markDown(String why) {
    log.record(time.nanoTime(), EventLog.Kind.PROBE_DOWN, node, server.index);
    backend.markDown(why, TimeUnit.MILLISECONDS.toNanos(health.retryBaseMs()),
        TimeUnit.MILLISECONDS.toNanos(health.retryMaxMs()));
  }

  /** The server reset every connection: idle ones go now, busy ones as their requests fail. */
  private void serverCrashed() {
    for (SimBackend.Conn c : idle) {
      server.close(c);
    }
    idle.clear();
  }

  /** Invariant: never more connections than max_size (plus one being handed back). */
  boolean withinBounds() {
    return connections() + opening <= config.maxSize() && waiters.size() <= maxWaiters;
  }
}

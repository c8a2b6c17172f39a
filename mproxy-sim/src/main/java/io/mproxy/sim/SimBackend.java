package io.mproxy.sim;

import io.mproxy.sim.SimConfig.BackendSpec;
import io.mproxy.sim.SimConfig.Window;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated database server: works on at most {@code capacity} requests at once (the rest wait
 * in its own FIFO), log-normal service times, latency spikes, crashes (every connection reset,
 * opens refused until the restart) and slow failures (connections and requests accepted, never
 * answered). It knows nothing of the proxy: it sees connections and requests, like a real server.
 */
final class SimBackend {

  enum State { UP, CRASHED, HUNG }

  /** A connection the proxy opened; dead once the server crashed or the proxy closed it. */
  static final class Conn {
    final SimBackend backend;
    final int epoch;
    boolean closed;
    Job current;

    Conn(SimBackend backend, int epoch) {
      this.backend = backend;
      this.epoch = epoch;
    }

    boolean alive() {
      return !closed && backend.epoch == epoch && backend.state != State.CRASHED;
    }
  }

  /** How a request ended at the server. */
  interface Reply {
    void replied(boolean ok);
  }

  private static final class Job {
    final int tenant;
    final double costFactor;
    final Conn conn;
    final Reply reply;
    long startedNanos;
    long serviceNanos;
    boolean running;
    boolean over;

    Job(int tenant, double costFactor, Conn conn, Reply reply) {
      this.tenant = tenant;
      this.costFactor = costFactor;
      this.conn = conn;
      this.reply = reply;
    }
  }

  final int index;
  final BackendSpec spec;
  private final VirtualTime time;
  private final SimRandom random;
  private final EventLog log;
  private final ArrayDeque<Job> backlog = new ArrayDeque<>();
  private final List<Job> running = new ArrayList<>();
  private final List<Runnable> crashListeners = new ArrayList<>();
  private final double[] busyNanosByTenant;
  private State state = State.UP;
  private int epoch;
  private int outstanding;
  private int maxOutstanding;
  private long opens;
  private long openSecond = -1;
  private int opensThisSecond;
  private int maxOpensPerSecond;
  private long crashes;
  private long served;

  SimBackend(int index, BackendSpec spec, int tenants, VirtualTime time, SimRandom random, EventLog log) {
    this.index = index;
    this.spec = spec;
    this.time = time;
    this.random = random;
    this.log = log;
    this.busyNanosByTenant = new double[tenants];
    for (Window w : spec.crashes()) {
      time.at(ms(w.startMs()), this::crash);
      time.at(ms(w.endMs()), this::restart);
    }
    for (Window w : spec.hangs()) {
      time.at(ms(w.startMs()), this::hang);
      time.at(ms(w.endMs()), this::restart);
    }
  }

  private static long ms(long m) {
    return m * 1_000_000L;
  }

  State state() {
    return state;
  }

  /** Called when the server crashes (its connections are reset: the proxy sees them close). */
  void onCrash(Runnable listener) {
    crashListeners.add(listener);
  }

  /** Opens a connection: answered after the connect time if up, refused if crashed, never if hung. */
  void connect(java.util.function.Consumer<Conn> opened, Runnable refused) {
    if (state == State.CRASHED) {
      time.schedule(refused, 200_000);
      return;
    }
    if (state == State.HUNG) {
      return;
    }
    time.schedule(() -> {
      if (state != State.UP) {
        if (state == State.CRASHED) {
          refused.run();
        }
        return;
      }
      countOpen();
      opened.accept(new Conn(this, epoch));
    }, ms(spec.connectMs()));
  }

  /** A health probe on a connection: a trivial request that needs no worker slot. */
  void probe(Conn c, Reply reply) {
    if (!c.alive()) {
      time.schedule(() -> reply.replied(false), 0);
      return;
    }
    if (state == State.HUNG) {
      return;
    }
    time.schedule(() -> reply.replied(c.alive()), 200_000);
  }

  /** Runs one request for {@code tenant} on connection {@code c}. */
  void execute(Conn c, int tenant, double costFactor, Reply reply) {
    if (!c.alive()) {
      time.schedule(() -> reply.replied(false), 0);
      return;
    }
    Job j = new Job(tenant, costFactor, c, reply);
    c.current = j;
    outstanding++;
    maxOutstanding = Math.max(maxOutstanding, outstanding);
    if (state == State.HUNG) {
      backlog.addLast(j);
      return;
    }
    if (running.size() < spec.capacity()) {
      start(j);
    } else {
      backlog.addLast(j);
    }
  }

  /**
   * A cancel for what connection {@code c} runs (PostgreSQL's CancelRequest): the server stops
   * the request and answers it with an error; the connection stays open. Nothing when idle.
   */
  void cancel(Conn c) {
    Job j = c.current;
    if (j == null || j.over || !c.alive()) {
      return;
    }
    j.over = true;
    c.current = null;
    outstanding--;
    if (j.running) {
      running.remove(j);
      account(j, time.nanoTime() - j.startedNanos);
      startNext();
    } else {
      backlog.remove(j);
    }
    time.schedule(() -> j.reply.replied(false), 0);
  }

  /** The proxy closed the connection (timeout): the server abandons its request. */
  void close(Conn c) {
    if (c.closed) {
      return;
    }
    c.closed = true;
    Job j = c.current;
    c.current = null;
    if (j == null || j.over) {
      return;
    }
    j.over = true;
    outstanding--;
    if (j.running) {
      running.remove(j);
      account(j, time.nanoTime() - j.startedNanos);
      startNext();
    } else {
      backlog.remove(j);
    }
  }

  private void start(Job j) {
    j.running = true;
    j.startedNanos = time.nanoTime();
    double spike = 1.0;
    long nowMs = time.nanoTime() / 1_000_000L;
    for (Window w : spec.spikes()) {
      if (w.contains(nowMs)) {
        spike *= w.factor();
      }
    }
    double sample = spec.medianServiceMs() * StrictMath.exp(spec.sigma() * random.gaussian());
    j.serviceNanos = Math.max(1_000L, (long) (sample * j.costFactor * spike * 1e6));
    running.add(j);
    time.schedule(() -> finish(j), j.serviceNanos);
  }

  private void finish(Job j) {
    if (j.over) {
      return;
    }
    if (state == State.HUNG) {
      return;
    }
    j.over = true;
    running.remove(j);
    outstanding--;
    served++;
    account(j, j.serviceNanos);
    j.conn.current = null;
    j.reply.replied(true);
    startNext();
  }

  private void startNext() {
    while (state == State.UP && running.size() < spec.capacity() && !backlog.isEmpty()) {
      start(backlog.pollFirst());
    }
  }

  private void account(Job j, long busy) {
    if (j.tenant >= 0) {
      busyNanosByTenant[j.tenant] += busy;
    }
  }

  private void countOpen() {
    opens++;
    long sec = time.nanoTime() / 1_000_000_000L;
    if (sec != openSecond) {
      openSecond = sec;
      opensThisSecond = 0;
    }
    opensThisSecond++;
    maxOpensPerSecond = Math.max(maxOpensPerSecond, opensThisSecond);
  }

  private void crash() {
    if (state == State.CRASHED) {
      return;
    }
    state = State.CRASHED;
    crashes++;
    epoch++;
    log.record(time.nanoTime(), EventLog.Kind.BACKEND_CRASH, index, 0);
    List<Job> lost = new ArrayList<>(running);
    lost.addAll(backlog);
    running.clear();
    backlog.clear();
    long now = time.nanoTime();
    for (Job j : lost) {
      j.over = true;
      outstanding--;
      j.conn.current = null;
      if (j.running) {
        account(j, now - j.startedNanos);
      }
      j.reply.replied(false);
    }
    for (Runnable l : crashListeners) {
      l.run();
    }
  }

  private void hang() {
    state = State.HUNG;
    log.record(time.nanoTime(), EventLog.Kind.BACKEND_HANG, index, 0);
  }

  private void restart() {
    log.record(time.nanoTime(), EventLog.Kind.BACKEND_RESTART, index, 0);
    if (state == State.HUNG) {
      // the server comes back without the sessions it sat on: the proxy must reconnect
      crash();
    }
    state = State.UP;
    epoch++;
  }

  int outstanding() {
    return outstanding;
  }

  int maxOutstanding() {
    return maxOutstanding;
  }

  long opens() {
    return opens;
  }

  int maxOpensPerSecond() {
    return maxOpensPerSecond;
  }

  long crashes() {
    return crashes;
  }

  long served() {
    return served;
  }

  double busyNanos(int tenant) {
    return busyNanosByTenant[tenant];
  }

  double busyNanosTotal() {
    double s = 0;
    for (double b : busyNanosByTenant) {
      s += b;
    }
    return s;
  }
}

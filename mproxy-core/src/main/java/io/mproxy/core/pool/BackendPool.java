package io.mproxy.core.pool;

import io.mproxy.core.admission.TokenBucket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.ReadBatch;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot connections to one backend. Keeps {@code min_idle} open and ready, never more than
 * {@code max_size}, opens at most {@code max_opens_per_sec} per second (no connection swarms
 * after a restart), closes connections idle past {@code idle_timeout_ms} above {@code min_idle},
 * and serves two kinds of use:
 * <ul>
 *   <li>shared: the least-loaded ready connection is handed out for one request and stays
 *       available to others (Redis and Cassandra multiplexing);</li>
 *   <li>exclusive: an idle connection is leased to one session until it is released
 *       (transactions, pub/sub, blocking commands, session pooling).</li>
 * </ul>
 * Requests that find no connection wait in a bounded queue until one is ready, the acquire
 * timeout passes, or opening fails. State is guarded by the pool's monitor; callbacks run on
 * the requester's event loop.
 */
public final class BackendPool {

  private static final Logger LOG = LoggerFactory.getLogger(BackendPool.class);
  private static final int MAX_WAITERS = 65_536;
  /** How many more in-flight requests a same-event-loop connection may carry and still be preferred. */
  private static final int AFFINITY_SLACK = 8;
  /** How far past the head a released connection looks for a waiter on its own event loop. */
  private static final int AFFINITY_LOOKAHEAD = 64;
  /**
   * How often a waiter may be passed over for a younger one on the connection's own loop. With
   * two loops and connections spread evenly, a waiter at the head is passed over only while
   * connections of the other loop come back in a row: 4 let about one lease in twenty go across
   * loops at 200 clients over 20 connections (every message of that transaction then hops
   * threads); 32 makes that rare, and costs the oldest waiter at most 32 releases of waiting
   * (milliseconds at thousands of transactions per second).
   */
  static final int AFFINITY_MAX_SKIPS = 32;
  /**
   * How much younger than a waiter the one that takes its turn may be. When one loop holds more
   * of the connections or of the waiting sessions, its waiters would otherwise take nearly every
   * release of its connections and the other loop's would get one in {@link #AFFINITY_MAX_SKIPS}
   * + 1. The bound is on the difference of arrival, not on the age of the waiter: at 200 clients
   * over a pool of 20 every waiter waits tens of milliseconds, so a bound on its age (2 ms, in
   * session 7) let nearly no waiter be passed over, and about half the leases crossed loops.
   * Each loop's waiters are served in their order, and the loops' queues drift apart by at most
   * this much.
   */
  static final long AFFINITY_MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
  /** Spare waiters kept per thread for the next wait (the steady state of a busy pool allocates none). */
  private static final int SPARE_WAITERS = 256;
  private static final FastThreadLocal<ArrayDeque<Waiter>> SPARES = new FastThreadLocal<>() {
    @Override
    protected ArrayDeque<Waiter> initialValue() {
      return new ArrayDeque<>();
    }
  };

  /** Receives a connection or the reason there is none. */
  public interface Lease {
    void granted(PooledConnection connection);

    void failed(Throwable cause);
  }

  private final Backend backend;
  private final String variant;
  private final Bootstrap bootstrap;
  private final BackendConnector connector;
  private final Clock clock;
  private final List<PooledConnection> connections = new ArrayList<>();
  /**
   * The idle connections of each event loop (one stack per loop that has had one), so an
   * exclusive lease takes one without walking {@link #connections}. A connection freed under the
   * monitor (opened, released, a probe done) is pushed; one leased, reserved, probed, reaped or
   * closed is taken out.
   */
  private IdleStack[] idle = new IdleStack[0];
  /**
   * Whether a shared request was ever served: a shared connection becomes idle when its last
   * request is done, outside the monitor and without being pushed, so such a pool's exclusive
   * leases walk the list as before.
   */
  private boolean sharedUse;
  /** Connections still in their protocol handshake: not yet in {@link #connections}, closed with the pool. */
  private final java.util.Set<Channel> handshaking = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Requests waiting for a connection, oldest first: an intrusive list (no node per wait, O(1) removal). */
  private Waiter head;
  private Waiter tail;
  private int waiterCount;
  /** Waiters served from the queue, and those of them served on another loop than the connection's. */
  private long queuedGrants;
  private long crossLoopGrants;
  private final TokenBucket opens;
  private final ConnectionBudget budget;
  private volatile PoolConfig config;
  private volatile HealthConfig health;
  private int opening;
  /** The event loop of each connection being opened (one entry per open in flight). */
  private final List<EventLoop> openingOn = new ArrayList<>();
  private boolean closed;
  /** Mirror of {@code waiterCount} readable without the monitor (a cheap check per request). */
  private volatile int waiting;

  /**
   * @param bootstrap a template with the event loop group and channel type; cloned per connection
   * @param variant which flavour of connection this pool holds (protocol-defined, e.g. "resp3")
   */
  public BackendPool(Backend backend, String variant, PoolConfig config, HealthConfig health,
      Bootstrap bootstrap, BackendConnector connector, Clock clock) {
    this(backend, variant, config, health, bootstrap, connector, clock, ConnectionBudget.unlimited());
  }

  /**
   * @param budget shared by the pools of one backend: their connections together stay within it
   */
  public BackendPool(Backend backend, String variant, PoolConfig config, HealthConfig health,
      Bootstrap bootstrap, BackendConnector connector, Clock clock, ConnectionBudget budget) {
    this.budget = budget;
    this.backend = backend;
    this.variant = variant;
    this.config = config;
    this.health = health;
    this.bootstrap = bootstrap;
    this.connector = connector;
    this.clock = clock;
    this.opens = new TokenBucket(clock, config.maxOpensPerSec(), config.maxOpensPerSec(), 0);
  }

  public Backend backend() {
    return backend;
  }

  public String variant() {
    return variant;
  }

  /**
   * The time of a lease, a release or a waiter's arrival, and when a connection was last used (for
   * idle eviction): one reading per read batch will do ({@link ReadBatch}; a fresh one outside).
   */
  long nowNanos() {
    return ReadBatch.nanoTime(clock);
  }

  /** Applies reloaded limits; connections above the new max are closed as they go idle. */
  public void reconfigure(PoolConfig next, HealthConfig nextHealth) {
    this.config = next;
    this.health = nextHealth;
    opens.configure(next.maxOpensPerSec(), next.maxOpensPerSec(), 0);
  }

  /**
   * Asks for a connection. {@code exclusive} leases an idle one to the caller until
   * {@link #release}; otherwise the least-loaded ready connection is reserved for one request.
   * The callback runs on {@code requester} (at once when a connection is ready).
   */
  public void acquire(boolean exclusive, EventLoop requester, Lease lease) {
    PooledConnection ready;
    Throwable refusal = null;
    synchronized (this) {
      if (closed) {
        refusal = new PoolClosedException(backend.id());
        ready = null;
      } else {
        ready = exclusive ? takeIdle(requester) : takeShared(requester);
        if (ready == null) {
          if (waiterCount >= MAX_WAITERS) {
            refusal = new PoolExhaustedException(backend.id(), "too many requests waiting for a connection");
          } else {
            long now = nowNanos();
            enqueue(Waiter.obtain(exclusive, requester, lease, now,
                now + TimeUnit.MILLISECONDS.toNanos(config.acquireTimeoutMs())));
            maybeOpen(requester, true);
          }
        }
      }
    }
    if (refusal != null) {
      lease.failed(refusal);
    } else if (ready != null) {
      lease.granted(ready);
    }
  }

  /**
   * Gives an exclusively leased connection back. A connection whose session state is unknown
   * (client vanished mid-transaction, still subscribed…) must come back with
   * {@code reusable=false}: it is closed rather than handed to someone else.
   */
  public void release(PooledConnection c, boolean reusable) {
    Waiter grants;
    synchronized (this) {
      c.exclusive(false);
      c.touch(nowNanos());
      if (!reusable || !c.usable() || closed || connections.size() > config.maxSize()) {
        connections.remove(c);
        unlinkIdle(c);
        c.ready(false);
        c.channel().close();
        grants = null;
        // a replacement only when someone needs it: a connection opened for nobody can sit in a
        // half-open state the server times out (MySQL passthrough connections are greeted only)
        if (!closed && head != null) {
          maybeOpen(head.loop, true);
        } else if (!closed && connections.size() + opening < config.minIdle()) {
          maybeOpen(null, false);
        }
      } else if (head != null && head.exclusive) {
        grants = grantReleased(c);
      } else {
        pushIdle(c);
        grants = serveWaiters();
      }
    }
    runAll(grants);
  }

  /**
   * Periodic upkeep (from the cluster's scheduler): expire waiters past their acquire timeout,
   * top up to {@code min_idle}, close idle connections above it.
   */
  public void maintain() {
    List<Waiter> expired = new ArrayList<>();
    List<PooledConnection> reaped = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      long now = clock.nanoTime();
      for (Waiter w = head; w != null; ) {
        Waiter next = w.next;
        if (now >= w.deadlineNanos) {
          unlink(w);
          expired.add(w);
        }
        w = next;
      }
      waiting = waiterCount;
      PoolConfig c = config;
      long idleLimit = TimeUnit.MILLISECONDS.toNanos(c.idleTimeoutMs());
      int live = connections.size();
      for (Iterator<PooledConnection> it = connections.iterator(); it.hasNext(); ) {
        PooledConnection pc = it.next();
        boolean idle = pc.ready() && !pc.exclusive() && pc.outstanding() == 0;
        if (idle && live > c.minIdle() && now - pc.lastUsedNanos() >= idleLimit) {
          it.remove();
          unlinkIdle(pc);
          pc.ready(false);
          reaped.add(pc);
          live--;
        }
      }
      while (connections.size() + opening < c.minIdle() && maybeOpen(null, false)) {
        // opened one more towards min_idle
      }
      if (head != null && opening == 0) {
        // an open refused earlier by the rate cap or back-off: try again for those waiting
        maybeOpen(head.loop, true);
      }
    }
    for (Waiter w : expired) {
      w.fail(new PoolExhaustedException(backend.id(), "no connection within acquire_timeout_ms"));
    }
    for (PooledConnection pc : reaped) {
      pc.channel().close();
    }
  }

  /**
   * Probes the backend on an idle ready connection, or by opening one; updates its health. A
   * backend whose connections are all busy is not probed: the probe would queue behind client
   * requests and time out under load, and the requests themselves show whether it answers.
   */
  public void probe() {
    PooledConnection candidate = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      boolean busy = false;
      for (PooledConnection pc : connections) {
        if (!pc.usable()) {
          continue;
        }
        if (!pc.exclusive() && pc.outstanding() == 0) {
          candidate = pc;
          unlinkIdle(pc);
          // Held like an exclusive lease while the probe runs, so no request shares the wire
          // with it (protocols without multiplexing could not tell the answers apart).
          pc.exclusive(true);
          break;
        }
        busy = true;
      }
      if (candidate == null && busy) {
        return;
      }
      if (candidate == null) {
        if (opening == 0) {
          maybeOpen(null, false);
        }
        return;
      }
    }
    PooledConnection target = candidate;
    EventLoop loop = target.channel().eventLoop();
    loop.execute(() -> {
      Promise<Void> result = loop.newPromise();
      long timeout = health.timeoutMs();
      long started = clock.nanoTime();
      var timer = loop.schedule(() -> result.tryFailure(new ProbeTimeoutException(backend.id(), timeout)),
          timeout, TimeUnit.MILLISECONDS);
      result.addListener(f -> {
        timer.cancel(false);
        if (f.isSuccess()) {
          backend.markUp();
          release(target, true);
        } else {
          if (!(f.cause() instanceof ProbeTimeoutException) || !backend.answeredSince(started)) {
            markDown(f.cause());
          }
          // (a probe that only timed out while requests were answered says nothing about the
          // backend; its connection, with an answer still owed, is closed all the same)
          release(target, false);
        }
      });
      connector.probe(target, result);
    });
  }

  /** Closes every connection and fails every waiter; the pool refuses further use. */
  public void close() {
    List<Waiter> failed;
    List<PooledConnection> all;
    synchronized (this) {
      closed = true;
      failed = drainWaiters();
      all = new ArrayList<>(connections);
      connections.clear();
      for (IdleStack s : idle) {
        s.clear();
      }
    }
    for (Waiter w : failed) {
      w.fail(new PoolClosedException(backend.id()));
    }
    for (PooledConnection pc : all) {
      pc.channel().close();
    }
    // A connection still handshaking would otherwise stay open, holding whatever it had read,
    // until its handshake ended — which may be never once the event loops stop.
    for (Channel ch : handshaking) {
      ch.close();
    }
  }

  /** Counts by state for metrics and status: idle, active (in use), opening. */
  public synchronized PoolStats stats() {
    int idle = 0;
    int active = 0;
    for (PooledConnection pc : connections) {
      if (pc.exclusive() || pc.outstanding() > 0) {
        active++;
      } else if (pc.ready()) {
        idle++;
      }
    }
    return new PoolStats(idle, active, opening, waiterCount);
  }

  /** Waiters served a connection from the queue since the pool started (for tests of the pick order). */
  synchronized long queuedGrants() {
    return queuedGrants;
  }

  /** Of {@link #queuedGrants()}, those whose connection lives on another event loop than the waiter. */
  synchronized long crossLoopGrants() {
    return crossLoopGrants;
  }

  /** Connection counts of one pool. */
  public record PoolStats(int idle, int active, int opening, int waiting) {
  }

  /**
   * An idle connection for an exclusive lease, preferring one on the requester's own event loop:
   * then every message between client and server stays on one thread, with no wake-up of
   * another loop per message. Otherwise one on any loop; the most recently freed of a loop first.
   */
  private PooledConnection takeIdle(EventLoop requester) {
    PooledConnection c = sharedUse ? scanIdle(requester) : popIdle(requester);
    if (c != null) {
      c.exclusive(true);
      c.touch(nowNanos());
    }
    return c;
  }

  /** Must hold the monitor: the top of the requester's loop's idle stack, else of any loop's. */
  private PooledConnection popIdle(EventLoop requester) {
    IdleStack[] stacks = idle;
    if (requester != null) {
      for (IdleStack s : stacks) {
        if (s.loop() == requester) {
          PooledConnection c = s.pop();
          if (c != null) {
            return c;
          }
          break;
        }
      }
    }
    for (IdleStack s : stacks) {
      PooledConnection c = s.pop();
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  /**
   * Must hold the monitor: the first idle connection in list order on the requester's loop, else
   * the first on any (a pool with shared use, whose idle connections are not all stacked).
   */
  private PooledConnection scanIdle(EventLoop requester) {
    PooledConnection any = null;
    for (int i = 0, n = connections.size(); i < n; i++) { // indexed: no iterator per lease
      PooledConnection pc = connections.get(i);
      if (pc.usable() && !pc.exclusive() && pc.outstanding() == 0) {
        if (requester == null || pc.channel().eventLoop() == requester) {
          any = pc;
          break;
        }
        if (any == null) {
          any = pc;
        }
      }
    }
    if (any != null) {
      unlinkIdle(any);
    }
    return any;
  }

  /** Must hold the monitor: stacks {@code c}, just freed, on its loop's idle stack. */
  private void pushIdle(PooledConnection c) {
    if (c.idleStack != null || c.exclusive() || c.outstanding() != 0) {
      return;
    }
    if (c.homeStack != null) {
      c.homeStack.push(c);
      return;
    }
    EventLoop loop = c.channel().eventLoop();
    IdleStack[] stacks = idle;
    IdleStack home = null;
    for (IdleStack s : stacks) {
      if (s.loop() == loop) {
        home = s;
        break;
      }
    }
    if (home == null) {
      home = new IdleStack(loop);
      IdleStack[] grown = java.util.Arrays.copyOf(stacks, stacks.length + 1);
      grown[stacks.length] = home;
      idle = grown;
    }
    c.homeStack = home;
    home.push(c);
  }

  /** Must hold the monitor: takes {@code c} out of its idle stack, if it is in one. */
  private static void unlinkIdle(PooledConnection c) {
    IdleStack s = c.idleStack;
    if (s != null) {
      s.remove(c);
    }
  }

  /**
   * The connection for one more shared request: the least loaded, preferring one on the
   * requester's own event loop (no thread hop on the way there and back) unless it carries
   * {@link #AFFINITY_SLACK} more requests than the least loaded elsewhere.
   */
  private PooledConnection takeShared(EventLoop requester) {
    int depth = connector.sharedPackDepth();
    if (depth > 0 && requester != null) {
      PooledConnection packed = firstOnLoopBelow(requester, depth);
      if (packed != null) {
        sharedUse = true;
        unlinkIdle(packed);
        packed.reserve();
        packed.touch(nowNanos());
        return packed;
      }
    }
    PooledConnection best = null;
    int bestScore = Integer.MAX_VALUE;
    int minOutstanding = Integer.MAX_VALUE;
    for (PooledConnection pc : connections) {
      if (!pc.usable() || pc.exclusive()) {
        continue;
      }
      int load = pc.outstanding();
      minOutstanding = Math.min(minOutstanding, load);
      int score = pc.channel().eventLoop() == requester ? load : load + AFFINITY_SLACK;
      if (score < bestScore) {
        best = pc;
        bestScore = score;
      }
    }
    if (best == null) {
      return null;
    }
    if (minOutstanding > 0 && opening == 0) {
      maybeOpen(requester, false);
    }
    sharedUse = true;
    unlinkIdle(best);
    best.reserve();
    best.touch(nowNanos());
    return best;
  }

  /**
   * The first connection (in pool order, so traffic concentrates on the oldest) on {@code loop}
   * carrying fewer than {@code depth} shared requests, or null.
   */
  private PooledConnection firstOnLoopBelow(EventLoop loop, int depth) {
    for (int i = 0, n = connections.size(); i < n; i++) {
      PooledConnection pc = connections.get(i);
      if (pc.usable() && !pc.exclusive() && pc.outstanding() < depth && pc.channel().eventLoop() == loop) {
        return pc;
      }
    }
    return null;
  }

  /** Opens one more connection if the size cap, the open rate and the backend's back-off allow. */
  private boolean maybeOpen(EventLoop preferred, boolean forWaiter) {
    if (connections.size() + opening >= config.maxSize()) {
      return false;
    }
    if (forWaiter && opening >= waiterCount) {
      return false;
    }
    if (!backend.tryable()) {
      if (forWaiter && opening == 0 && usableCount() == 0) {
        failWaitersLater(new BackendDownException(backend.id(), backend.lastError()));
      }
      return false;
    }
    if (!budget.tryAcquire(forWaiter)) {
      return false;
    }
    if (opens.acquire(1, 0) != TokenBucket.GRANTED) {
      budget.release();
      return false;
    }
    openConnection(preferred);
    return true;
  }

  /** How many requests wait for a connection of this pool. */
  public int waiting() {
    return waiting;
  }

  /**
   * Closes one idle connection, even below {@code min_idle}: another pool of the same backend
   * has requests waiting and the backend's {@link ConnectionBudget} is spent. True if one was.
   */
  public boolean closeOneIdle() {
    PooledConnection victim = null;
    synchronized (this) {
      for (Iterator<PooledConnection> it = connections.iterator(); it.hasNext(); ) {
        PooledConnection pc = it.next();
        if (pc.ready() && !pc.exclusive() && pc.outstanding() == 0) {
          it.remove();
          unlinkIdle(pc);
          pc.ready(false);
          victim = pc;
          break;
        }
      }
    }
    if (victim == null) {
      return false;
    }
    LOG.debug("backend {} ({}): closing an idle connection for another variant's waiters", backend.id(), variant);
    victim.channel().close();
    return true;
  }

  private int usableCount() {
    int n = 0;
    for (PooledConnection pc : connections) {
      if (pc.usable()) {
        n++;
      }
    }
    return n;
  }

  private void openConnection(EventLoop preferred) {
    EventLoop loop = loopForNewConnection(preferred);
    opening++;
    openingOn.add(loop);
    LOG.debug("backend {} ({}): opening a connection ({} open, {} opening)", backend.id(), variant,
        connections.size(), opening);
    Bootstrap b = bootstrap.clone(loop);
    InetSocketAddress address = new InetSocketAddress(backend.config().address().host(),
        backend.config().address().port());
    int connectTimeout = (int) Math.min(Integer.MAX_VALUE, config.connectTimeoutMs());
    b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeout)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            connector.initChannel(ch);
          }
        });
    ChannelFuture cf = b.connect(address);
    cf.addListener(f -> {
      if (!f.isSuccess()) {
        budget.release();
        onOpenFailed(loop, f.cause());
        return;
      }
      cf.channel().closeFuture().addListener(closed -> budget.release());
      startHandshake(cf.channel(), loop, connectTimeout);
    });
  }

  /**
   * Must hold the monitor: the event loop a new connection lives on. The one of the bootstrap's
   * loops with the fewest connections (open or opening), the requester's own on a tie: a new
   * connection used to open on the loop of the waiter that asked, so one loop could hold most of
   * them, and its leases to the other loop's sessions then sent every message of a transaction
   * across threads. Spread evenly, each loop's sessions find connections on their own loop.
   */
  EventLoop loopForNewConnection(EventLoop preferred) {
    EventLoop best = null;
    int bestCount = Integer.MAX_VALUE;
    if (preferred != null) {
      best = preferred;
      bestCount = connectionsOn(preferred);
    }
    for (EventExecutor e : bootstrap.config().group()) {
      if (e == preferred || !(e instanceof EventLoop candidate)) {
        continue;
      }
      int count = connectionsOn(candidate);
      if (count < bestCount) {
        best = candidate;
        bestCount = count;
      }
    }
    return best != null ? best : bootstrap.config().group().next();
  }

  /** Must hold the monitor: connections open or opening on {@code loop}. */
  private int connectionsOn(EventLoop loop) {
    int n = 0;
    for (int i = 0, size = connections.size(); i < size; i++) {
      if (connections.get(i).channel().eventLoop() == loop) {
        n++;
      }
    }
    for (int i = 0, size = openingOn.size(); i < size; i++) {
      if (openingOn.get(i) == loop) {
        n++;
      }
    }
    return n;
  }

  /** Must hold the monitor: one open on {@code loop} has ended (ready, failed or abandoned). */
  private void openEnded(EventLoop loop) {
    opening--;
    openingOn.remove(loop);
  }

  private void startHandshake(Channel ch, EventLoop loop, long timeoutMs) {
    PooledConnection pc = new PooledConnection(this, ch, variant, clock.nanoTime());
    handshaking.add(ch);
    synchronized (this) {
      if (closed) {
        handshaking.remove(ch);
        openEnded(loop);
        ch.close();
        return;
      }
    }
    Promise<Void> ready = ch.eventLoop().newPromise();
    var timer = ch.eventLoop().schedule(
        () -> ready.tryFailure(new ProbeTimeoutException(backend.id(), timeoutMs)), timeoutMs, TimeUnit.MILLISECONDS);
    ch.closeFuture().addListener(f -> {
      ready.tryFailure(new BackendDownException(backend.id(), "connection closed during handshake"));
      onClosed(pc);
    });
    ready.addListener((Future<? super Void> f) -> {
      timer.cancel(false);
      handshaking.remove(ch);
      if (f.isSuccess()) {
        onOpened(pc, loop);
      } else {
        ch.close();
        onOpenFailed(loop, f.cause());
      }
    });
    connector.handshake(pc, ready);
  }

  private void onOpened(PooledConnection pc, EventLoop loop) {
    LOG.debug("backend {} ({}): connection {} ready", backend.id(), variant, pc.channel().id().asShortText());
    Waiter grants;
    boolean closeIt = false;
    synchronized (this) {
      openEnded(loop);
      if (closed || !pc.channel().isActive()) {
        closeIt = true;
        grants = null;
      } else {
        pc.ready(true);
        connections.add(pc);
        pushIdle(pc);
        grants = serveWaiters();
      }
    }
    backend.markUp();
    if (closeIt) {
      pc.channel().close();
    }
    runAll(grants);
  }

  private void onOpenFailed(EventLoop loop, Throwable cause) {
    LOG.debug("backend {} ({}): open failed: {}", backend.id(), variant, String.valueOf(cause));
    markDown(cause);
    synchronized (this) {
      openEnded(loop);
      if (opening == 0 && usableCount() == 0) {
        failWaitersLater(cause instanceof PoolException
            ? cause : new BackendDownException(backend.id(), describe(cause)));
      }
    }
  }

  /** A short reason without addresses: Netty's connect errors name the remote address. */
  private static String describe(Throwable cause) {
    if (cause instanceof PoolException pe) {
      return pe.reason();
    }
    if (cause instanceof java.net.ConnectException) {
      return "connection refused";
    }
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "connect timed out";
    }
    return cause == null ? "unknown" : cause.getClass().getSimpleName();
  }

  /** A shared connection has no request left: serve anyone waiting for an exclusive lease. */
  void connectionIdle() {
    if (waiting == 0) {
      return;
    }
    Waiter grants;
    synchronized (this) {
      grants = closed ? null : serveWaiters();
    }
    runAll(grants);
  }

  private void markDown(Throwable cause) {
    HealthConfig h = health;
    String msg = cause == null ? "unknown" : String.valueOf(cause.getMessage());
    if (backend.healthy()) {
      LOG.warn("backend {} is down: {}", backend.id(), msg);
    }
    backend.markDown(msg, TimeUnit.MILLISECONDS.toNanos(h.retryBaseMs()), TimeUnit.MILLISECONDS.toNanos(h.retryMaxMs()));
  }

  private void onClosed(PooledConnection pc) {
    synchronized (this) {
      pc.ready(false);
      connections.remove(pc);
      unlinkIdle(pc);
    }
  }

  /**
   * Hands each granted waiter to its event loop (after the monitor is released): the waiter is
   * itself the task, so a grant allocates nothing.
   */
  private static void runAll(Waiter grants) {
    for (Waiter g = grants; g != null; ) {
      Waiter next = g.nextGrant;
      g.nextGrant = null;
      g.loop.execute(g); // g may run (and be reused) on its loop from here on: not touched again
      g = next;
    }
  }

  /**
   * Must hold the monitor; returns the chain of granted waiters (linked by {@code nextGrant}) to
   * run after releasing it. Waiters are served in order, with one exception: an idle connection
   * that lives on another event loop than the waiter at the head goes to the first waiter on its
   * own loop instead (looking at most {@link #AFFINITY_LOOKAHEAD} waiters ahead), so that client
   * and server messages of the whole transaction stay on one thread; a waiter is passed over at
   * most {@link #AFFINITY_MAX_SKIPS} times and only for one that arrived within
   * {@link #AFFINITY_MAX_WAIT_NANOS} after it, which bounds the unfairness.
   */
  private Waiter serveWaiters() {
    Waiter first = null;
    Waiter last = null;
    // Once no connection is left for one kind of lease, none is left for the waiters behind it:
    // without this, each release scanned every connection for every waiter (200 clients over a
    // pool of 20 made that thousands of checks per transaction).
    boolean idleLeft = true;
    boolean sharedLeft = true;
    Waiter w = head;
    while (w != null && (idleLeft || sharedLeft)) {
      if (!(w.exclusive ? idleLeft : sharedLeft)) {
        w = w.next;
        continue;
      }
      PooledConnection c = w.exclusive ? takeIdle(w.loop) : takeShared(w.loop);
      if (c == null) {
        if (w.exclusive) {
          idleLeft = false;
        } else {
          sharedLeft = false;
        }
        w = w.next;
        continue;
      }
      EventLoop home = c.channel().eventLoop();
      Waiter taker = w.exclusive ? takerOf(w, home) : w;
      Waiter after = w.next;
      grant(taker, c, home);
      if (first == null) {
        first = taker;
      } else {
        last.nextGrant = taker;
      }
      last = taker;
      if (taker == w) {
        w = after; // else w stays at the head for the next connection
      }
    }
    waiting = waiterCount;
    return first;
  }

  /**
   * Must hold the monitor; {@code c} was just released, is usable, and the waiter at the head
   * wants an exclusive lease. Every connection that became free while exclusive waiters queued
   * went to one of them at once, so {@code c} is the only one to hand out: it goes to the waiter
   * {@link #serveWaiters()} would pick, without that pass's two scans of every connection (at 200
   * clients over a pool of 20, each transaction's release walked all twenty, twice).
   */
  private Waiter grantReleased(PooledConnection c) {
    EventLoop home = c.channel().eventLoop();
    Waiter taker = takerOf(head, home);
    c.exclusive(true); // release() has just touched it
    grant(taker, c, home);
    waiting = waiterCount;
    return taker;
  }

  /**
   * Must hold the monitor: who gets an idle connection on {@code home} that exclusive waiter
   * {@code w}, first in line, would get: {@code w}, or the first exclusive waiter on {@code home}
   * when it arrived soon enough after {@code w} (see {@link #serveWaiters()}).
   */
  private Waiter takerOf(Waiter w, EventLoop home) {
    if (home != w.loop && w.skips < AFFINITY_MAX_SKIPS) {
      Waiter local = firstExclusiveWaiterOn(home);
      if (local != null && local.sinceNanos - w.sinceNanos < AFFINITY_MAX_WAIT_NANOS) {
        w.skips++;
        return local;
      }
    }
    return w;
  }

  /** Must hold the monitor: dequeues {@code taker} and gives it {@code c}, which lives on {@code home}. */
  private void grant(Waiter taker, PooledConnection c, EventLoop home) {
    unlink(taker);
    taker.granted = c;
    queuedGrants++;
    if (taker.loop != home) {
      crossLoopGrants++;
    }
  }

  /** Must hold the monitor: the first exclusive waiter on {@code loop}, near the head. */
  private Waiter firstExclusiveWaiterOn(EventLoop loop) {
    int looked = 0;
    for (Waiter x = head; x != null; x = x.next) {
      if (++looked > AFFINITY_LOOKAHEAD) {
        return null;
      }
      if (x.exclusive && x.loop == loop) {
        return x;
      }
    }
    return null;
  }

  /** Must hold the monitor. */
  private void enqueue(Waiter w) {
    w.prev = tail;
    w.next = null;
    if (tail == null) {
      head = w;
    } else {
      tail.next = w;
    }
    tail = w;
    waiterCount++;
    waiting = waiterCount;
  }

  /** Must hold the monitor; {@code w} is queued. The caller updates {@link #waiting}. */
  private void unlink(Waiter w) {
    Waiter p = w.prev;
    Waiter n = w.next;
    if (p == null) {
      head = n;
    } else {
      p.next = n;
    }
    if (n == null) {
      tail = p;
    } else {
      n.prev = p;
    }
    w.prev = null;
    w.next = null;
    waiterCount--;
  }

  /** Must hold the monitor: empties the queue, oldest first. */
  private List<Waiter> drainWaiters() {
    List<Waiter> all = new ArrayList<>(waiterCount);
    for (Waiter w = head; w != null; ) {
      Waiter next = w.next;
      w.prev = null;
      w.next = null;
      all.add(w);
      w = next;
    }
    head = null;
    tail = null;
    waiterCount = 0;
    waiting = 0;
    return all;
  }

  /** Must hold the monitor. */
  private void failWaitersLater(Throwable cause) {
    for (Waiter w : drainWaiters()) {
      w.fail(cause);
    }
  }

  /**
   * One request waiting for a connection; the task that hands it over on the waiter's loop.
   * Served waiters go back to a per-thread spare list when they run (on the loop that asked, so
   * the next wait on that loop reuses them); failed ones are left to the garbage collector.
   */
  private static final class Waiter implements Runnable {
    boolean exclusive;
    EventLoop loop;
    Lease lease;
    long sinceNanos;
    long deadlineNanos;
    /** How often an idle connection on another loop went to a younger waiter instead. */
    int skips;
    /** Neighbours in the pool's queue while queued. */
    Waiter prev;
    Waiter next;
    /** Set when served, with the next grant of the same serving pass. */
    PooledConnection granted;
    Waiter nextGrant;

    static Waiter obtain(boolean exclusive, EventLoop loop, Lease lease, long sinceNanos, long deadlineNanos) {
      Waiter w = SPARES.get().pollFirst();
      if (w == null) {
        w = new Waiter();
      }
      w.exclusive = exclusive;
      w.loop = loop;
      w.lease = lease;
      w.sinceNanos = sinceNanos;
      w.deadlineNanos = deadlineNanos;
      w.skips = 0;
      return w;
    }

    /** Runs on {@link #loop}: hands the connection over, after making this waiter spare. */
    @Override
    public void run() {
      Lease l = lease;
      PooledConnection c = granted;
      lease = null;
      granted = null;
      loop = null;
      ArrayDeque<Waiter> spares = SPARES.get();
      if (spares.size() < SPARE_WAITERS) {
        spares.addFirst(this);
      }
      l.granted(c);
    }

    /** Tells the waiter on its loop that there is no connection for it (not reused afterwards). */
    void fail(Throwable cause) {
      Lease l = lease;
      loop.execute(() -> l.failed(cause));
    }
  }
}

package io.mproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.Clock;
import io.mproxy.testkit.Eventually;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BackendPool} over real sockets: a real Netty NIO client against {@link LocalTcpServer},
 * a connector whose handshake and probe succeed at once, and the system clock.
 */
class BackendPoolTest {

  private static final Duration WITHIN = Duration.ofSeconds(5);
  private static final HealthConfig HEALTH = new HealthConfig(1_000, 1_000, 200, 2_000);

  private final Clock clock = new SystemClock();
  private final InstantConnector connector = new InstantConnector();
  private final List<BackendPool> pools = new ArrayList<>();
  private MultiThreadIoEventLoopGroup group;
  private Bootstrap bootstrap;
  private EventLoop requester;
  private LocalTcpServer server;
  private Backend backend;

  @BeforeEach
  void setUp() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class);
    requester = group.next();
    server = new LocalTcpServer();
    backend = new Backend(new BackendConfig(new HostPort("127.0.0.1", server.port()), BackendConfig.Role.PRIMARY),
        clock);
  }

  @AfterEach
  void tearDown() throws Exception {
    pools.forEach(BackendPool::close);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void maintainOpensMinIdle() {
    BackendPool pool = pool(config(2, 4, 100, 5_000));
    pool.maintain();
    Eventually.assertWithin(WITHIN, () -> assertEquals(new BackendPool.PoolStats(2, 0, 0, 0), pool.stats()));
    assertEquals(2, connector.connected());
    Eventually.assertWithin(WITHIN, () -> assertEquals(2, server.accepted()));
    pool.maintain();
    assertEquals(0, pool.stats().opening(), "already at min_idle: nothing more to open");
    assertTrue(backend.healthy());
  }

  @Test
  void exclusiveLeaseIsNotHandedOutAgainUntilReleased() {
    BackendPool pool = pool(config(1, 1, 100, 5_000));
    warm(pool, 1);

    Leases first = new Leases();
    pool.acquire(true, requester, first);
    PooledConnection conn = first.only();
    assertTrue(conn.exclusive());
    assertEquals(new BackendPool.PoolStats(0, 1, 0, 0), pool.stats());

    Leases second = new Leases();
    Leases shared = new Leases();
    pool.acquire(true, requester, second);
    pool.acquire(false, requester, shared);
    assertEquals(0, second.granted.size(), "the only connection is leased");
    assertEquals(0, shared.granted.size(), "an exclusive lease is not shared either");
    assertEquals(2, pool.stats().waiting());

    pool.release(conn, true);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, second.granted.size()));
    assertSame(conn.channel(), second.only().channel(), "the released connection is reused");
    assertTrue(second.onLoop.get(0), "waiters are answered on their own event loop");
    assertEquals(0, shared.granted.size(), "still leased, now to the second session");

    pool.release(second.only(), true);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, shared.granted.size()));
    assertEquals(1, shared.only().outstanding());
    assertEquals(1, connector.connected(), "max_size 1: one socket all along");
  }

  /**
   * A released connection goes to a waiter on its own event loop before an older waiter on
   * another loop (a transaction then never hops threads), but the older one is passed over at
   * most {@link BackendPool#AFFINITY_MAX_SKIPS} times. The pool's clock stands still here, so
   * only the count bounds the skips.
   */
  @Test
  void aReleasedConnectionPrefersAWaiterOnItsOwnLoopButNotForever() {
    MultiThreadIoEventLoopGroup elsewhere = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      BackendPool pool = manualClockPool(new ManualClock());
      warm(pool, 1);
      PooledConnection held = acquireNow(pool, true);
      assertSame(requester, held.channel().eventLoop());
      Leases far = new Leases();
      pool.acquire(true, elsewhere.next(), far);
      for (int i = 0; i < BackendPool.AFFINITY_MAX_SKIPS; i++) {
        held = releaseToANearWaiter(pool, held, far, "skip " + i);
      }
      assertEquals(BackendPool.AFFINITY_MAX_SKIPS, pool.queuedGrants());
      assertEquals(0, pool.crossLoopGrants(), "every grant so far stayed on the connection's loop");
      assertTrue(BackendPool.AFFINITY_MAX_SKIPS >= 16,
          "at 200 clients over 20 connections a bound of 4 sent one lease in twenty across loops");
      Leases last = new Leases();
      pool.acquire(true, requester, last);
      pool.release(held, true);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, far.granted.size()));
      assertEquals(0, last.granted.size(), "after the bound of skips the oldest waiter is served first");
      assertEquals(1, pool.crossLoopGrants());
      assertEquals(1, pool.stats().waiting());
    } finally {
      elsewhere.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A waiter on another loop is passed over only for one that arrived less than
   * {@link BackendPool#AFFINITY_MAX_WAIT_NANOS} after it: a waiter {@code AFFINITY_MAX_WAIT_NANOS}
   * younger does not take its turn, however few skips it took (when one loop holds most
   * connections, the other loop's waiters are not starved).
   */
  @Test
  void aWaiterOnAnotherLoopIsPassedOverOnlyForOneThatArrivedSoonAfterIt() {
    MultiThreadIoEventLoopGroup elsewhere = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      ManualClock manual = new ManualClock();
      BackendPool pool = manualClockPool(manual);
      warm(pool, 1);
      PooledConnection held = acquireNow(pool, true);
      Leases far = new Leases();
      pool.acquire(true, elsewhere.next(), far);
      held = releaseToANearWaiter(pool, held, far, "young");
      manual.advanceNanos(BackendPool.AFFINITY_MAX_WAIT_NANOS);
      Leases near = new Leases();
      pool.acquire(true, requester, near);
      pool.release(held, true);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, far.granted.size()));
      assertEquals(0, near.granted.size(), "the old waiter goes first after one skip");
      assertEquals(1, pool.crossLoopGrants());
    } finally {
      elsewhere.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /**
   * New connections open on the loop with the fewest, not on the loop of the waiter that asked:
   * four waiters all on one loop of two get two connections on each, and afterwards each loop's
   * sessions are leased an idle connection of their own loop. (Before, all four opened on the
   * asking loop, and every lease to the other loop's sessions crossed threads.)
   */
  @Test
  void newConnectionsSpreadEvenlyOverTheLoopsAndLeasesStayOnTheirLoop() {
    MultiThreadIoEventLoopGroup two = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      EventLoop a = two.next();
      EventLoop b = two.next();
      assertNotSame(a, b);
      BackendPool pool = new BackendPool(backend, "test", config(0, 4, 100, 5_000), HEALTH,
          new Bootstrap().group(two).channel(NioSocketChannel.class), connector, new ManualClock());
      pools.add(pool);
      List<Leases> asked = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Leases l = new Leases();
        pool.acquire(true, a, l);
        asked.add(l);
      }
      Eventually.assertWithin(WITHIN, () -> {
        for (Leases l : asked) {
          assertEquals(1, l.granted.size(), "granted " + l.granted + ", failed " + l.failed);
        }
      });
      assertEquals(2, countOn(asked, a), "two of the four connections on the asking loop");
      assertEquals(2, countOn(asked, b), "two on the other loop, though no waiter was there");
      for (Leases l : asked) {
        pool.release(l.only(), true);
      }
      assertEquals(4, pool.stats().idle());

      List<Leases> local = new ArrayList<>();
      for (EventLoop loop : List.of(b, a, b, a)) {
        Leases l = new Leases();
        pool.acquire(true, loop, l);
        assertEquals(1, l.granted.size(), "an idle connection is granted at once");
        assertSame(loop, l.only().channel().eventLoop(), "the idle connection on the requester's own loop");
        local.add(l);
      }
      assertEquals(4, new HashSet<>(local.stream().map(Leases::only).toList()).size());
      assertEquals(4, connector.connected(), "max_size 4: no more opened");
    } finally {
      pools.forEach(BackendPool::close);
      two.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /** min_idle connections opened by upkeep (no waiter asked) spread over the loops too. */
  @Test
  void minIdleConnectionsSpreadOverTheLoops() {
    MultiThreadIoEventLoopGroup two = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      BackendPool pool = new BackendPool(backend, "test", config(4, 4, 100, 5_000), HEALTH,
          new Bootstrap().group(two).channel(NioSocketChannel.class), connector, new ManualClock());
      pools.add(pool);
      pool.maintain();
      Eventually.assertWithin(WITHIN, () -> assertEquals(4, pool.stats().idle()));
      List<Leases> leased = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Leases l = new Leases();
        pool.acquire(true, null, l);
        leased.add(l);
      }
      for (io.netty.util.concurrent.EventExecutor e : two) {
        assertEquals(2, countOn(leased, (EventLoop) e), "two min_idle connections on each loop");
      }
    } finally {
      pools.forEach(BackendPool::close);
      two.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The idle connection a lease gets is one on the requester's loop while there is one, however
   * recently a connection of another loop was freed; only when its loop has none idle does it get
   * another loop's, at once.
   */
  @Test
  void anExclusiveLeaseTakesAnIdleConnectionOnItsOwnLoopBeforeOneFreedLaterElsewhere() {
    MultiThreadIoEventLoopGroup two = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      EventLoop a = two.next();
      EventLoop b = two.next();
      BackendPool pool = new BackendPool(backend, "test", config(4, 4, 100, 5_000), HEALTH,
          new Bootstrap().group(two).channel(NioSocketChannel.class), connector, new ManualClock());
      pools.add(pool);
      warm(pool, 4);
      List<PooledConnection> onA = new ArrayList<>();
      List<PooledConnection> onB = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Leases l = new Leases();
        pool.acquire(true, null, l);
        (l.only().channel().eventLoop() == a ? onA : onB).add(l.only());
      }
      assertEquals(2, onA.size(), "two connections on each loop");
      // loop A's connections freed first, loop B's last: the most recently freed are B's
      onA.forEach(c -> pool.release(c, true));
      onB.forEach(c -> pool.release(c, true));

      for (int i = 0; i < 2; i++) {
        Leases l = new Leases();
        pool.acquire(true, a, l);
        assertSame(a, l.only().channel().eventLoop(), "lease " + i + " on loop A while an A connection is idle");
      }
      Leases third = new Leases();
      pool.acquire(true, a, third);
      assertEquals(1, third.granted.size(), "no A connection left idle: a B one, granted at once");
      assertSame(b, third.only().channel().eventLoop());
      Leases onItsLoop = new Leases();
      pool.acquire(true, b, onItsLoop);
      assertSame(b, onItsLoop.only().channel().eventLoop());
      assertEquals(new BackendPool.PoolStats(0, 4, 0, 0), pool.stats());
    } finally {
      pools.forEach(BackendPool::close);
      two.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /**
   * After many leases and releases on both loops, the connections those leases kept using stay
   * and the ones left idle past idle_timeout are closed; the pool then hands out exactly the
   * ones left, and opens anew when they are leased.
   */
  @Test
  void manyLeaseCyclesKeepTheUsedConnectionsAndIdleTimeoutReapsTheRest() {
    MultiThreadIoEventLoopGroup two = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      EventLoop a = two.next();
      EventLoop b = two.next();
      ManualClock manual = new ManualClock();
      BackendPool pool = new BackendPool(backend, "test", new PoolConfig("test", 0, 4, 100, 1_000, 2_000, 5_000),
          HEALTH, new Bootstrap().group(two).channel(NioSocketChannel.class), connector, manual);
      pools.add(pool);
      List<Leases> opened = new ArrayList<>();
      for (EventLoop loop : List.of(a, b, a, b)) {
        Leases l = new Leases();
        pool.acquire(true, loop, l);
        opened.add(l);
      }
      Eventually.assertWithin(WITHIN, () -> opened.forEach(l -> assertEquals(1, l.granted.size())));
      opened.forEach(l -> pool.release(l.only(), true));
      assertEquals(4, pool.stats().idle());

      manual.advanceMillis(900);
      HashSet<PooledConnection> used = new HashSet<>();
      for (int i = 0; i < 2_000; i++) {
        EventLoop loop = i % 2 == 0 ? a : b;
        Leases l = new Leases();
        pool.acquire(true, loop, l);
        PooledConnection c = l.only();
        assertSame(loop, c.channel().eventLoop());
        used.add(c);
        pool.release(c, true);
      }
      assertEquals(2, used.size(), "the same connection of each loop, freed last, leased again");
      assertEquals(new BackendPool.PoolStats(4, 0, 0, 0), pool.stats());

      manual.advanceMillis(600); // the two unused connections idle 1,500 ms, the used ones 600
      pool.maintain();
      assertEquals(new BackendPool.PoolStats(2, 0, 0, 0), pool.stats(), "the two left idle are reaped");
      Eventually.assertWithin(WITHIN, () -> assertEquals(2, server.open()));

      List<PooledConnection> after = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Leases l = new Leases();
        pool.acquire(true, a, l);
        assertEquals(1, l.granted.size(), "granted at once");
        assertTrue(l.only().usable());
        after.add(l.only());
      }
      assertEquals(used, new HashSet<>(after), "the connections still open are the ones used");
      Leases more = new Leases();
      pool.acquire(true, a, more);
      // None is idle, so this lease is granted a new connection. The connect may complete before
      // this thread looks, so the proof is the fifth connect, not an empty grant list.
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, more.granted.size()));
      assertFalse(used.contains(more.only()), "none idle: this lease waits for a new connection");
      assertEquals(5, connector.connected());
    } finally {
      pools.forEach(BackendPool::close);
      two.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  private static int countOn(List<Leases> leases, EventLoop loop) {
    int n = 0;
    for (Leases l : leases) {
      if (l.only().channel().eventLoop() == loop) {
        n++;
      }
    }
    return n;
  }

  /**
   * At 200 clients over a pool of 20 every waiter waits tens of milliseconds: a waiter on another
   * loop is still passed over for a local one that arrived just after it, however long both have
   * waited (a bound on the waiter's age let nearly no lease stay on its loop there).
   */
  @Test
  void aLongWaitDoesNotStopTheSameLoopPreferenceBetweenWaitersOfAboutOneAge() {
    MultiThreadIoEventLoopGroup elsewhere = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      ManualClock manual = new ManualClock();
      BackendPool pool = manualClockPool(manual);
      warm(pool, 1);
      PooledConnection held = acquireNow(pool, true);
      Leases far = new Leases();
      pool.acquire(true, elsewhere.next(), far);
      manual.advanceNanos(BackendPool.AFFINITY_MAX_WAIT_NANOS / 2);
      Leases near = new Leases();
      pool.acquire(true, requester, near);
      manual.advanceNanos(TimeUnit.MILLISECONDS.toNanos(50));
      pool.release(held, true);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, near.granted.size()));
      assertEquals(0, far.granted.size(), "the waiter on the connection's loop, half a bound younger, goes first");
      assertEquals(0, pool.crossLoopGrants());
      pool.close();
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, far.failed.size()));
    } finally {
      elsewhere.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
  }

  /** Releases {@code held} with a new waiter on its loop queued: that waiter must get it, not {@code far}. */
  private PooledConnection releaseToANearWaiter(BackendPool pool, PooledConnection held, Leases far, String what) {
    Leases near = new Leases();
    pool.acquire(true, requester, near);
    pool.release(held, true);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, near.granted.size()));
    assertEquals(0, far.granted.size(), what + ": the waiter on the connection's loop goes first");
    assertTrue(near.onLoop.get(0), "granted on the waiter's own loop");
    return near.only();
  }

  private BackendPool manualClockPool(ManualClock manual) {
    BackendPool pool = new BackendPool(backend, "test", config(1, 1, 100, 5_000), HEALTH, bootstrap, connector, manual);
    pools.add(pool);
    return pool;
  }

  @Test
  void waitersOnOneLoopAreServedOldestFirstAndEachExactlyOnce() {
    BackendPool pool = pool(config(1, 1, 100, 5_000));
    warm(pool, 1);
    PooledConnection held = acquireNow(pool, true);
    List<Leases> queued = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Leases l = new Leases();
      pool.acquire(true, requester, l);
      queued.add(l);
    }
    assertEquals(6, pool.stats().waiting());
    for (int i = 0; i < queued.size(); i++) {
      pool.release(held, true);
      Leases next = queued.get(i);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, next.granted.size()));
      for (int j = i + 1; j < queued.size(); j++) {
        assertEquals(0, queued.get(j).granted.size(), "waiter " + j + " before waiter " + i);
      }
      assertEquals(queued.size() - i - 1, pool.stats().waiting());
      held = next.only();
    }
    pool.release(held, true);
    assertEquals(1, pool.stats().idle());
    for (Leases l : queued) {
      assertEquals(1, l.granted.size(), "each waiter is granted once");
      assertTrue(l.failed.isEmpty());
    }
    assertEquals(6, pool.queuedGrants());
    assertEquals(0, pool.crossLoopGrants());
  }

  @Test
  void sharedAcquireHandsOutTheLeastLoadedAndCountsOutstanding() {
    BackendPool pool = pool(config(2, 2, 100, 5_000));
    warm(pool, 2);

    PooledConnection a = acquireNow(pool, false);
    PooledConnection b = acquireNow(pool, false);
    assertNotSame(a, b, "the idle one is less loaded than the one with a request in flight");
    assertEquals(1, a.outstanding());
    assertEquals(1, b.outstanding());
    assertFalse(a.exclusive());

    PooledConnection c = acquireNow(pool, false);
    assertTrue(c == a || c == b);
    assertEquals(2, c.outstanding());
    PooledConnection other = c == a ? b : a;
    PooledConnection d = acquireNow(pool, false);
    assertSame(other, d, "the one with fewer requests outstanding");
    assertEquals(2, d.outstanding());

    c.done();
    c.done();
    assertEquals(0, c.outstanding());
    assertSame(c, acquireNow(pool, false));
    assertEquals(new BackendPool.PoolStats(0, 2, 0, 0), pool.stats());
    assertEquals(2, connector.connected());
  }

  @Test
  void aPackingProtocolFillsOneConnectionBeforeUsingAnother() {
    connector.packDepth = 3;
    BackendPool pool = pool(config(2, 2, 100, 5_000));
    warm(pool, 2);

    PooledConnection first = acquireNow(pool, false);
    assertSame(first, acquireNow(pool, false), "packed onto the connection already in use");
    assertSame(first, acquireNow(pool, false));
    assertEquals(3, first.outstanding());
    PooledConnection spill = acquireNow(pool, false);
    assertNotSame(first, spill, "past the depth the least loaded takes the request");
    assertEquals(1, spill.outstanding());

    first.done();
    assertSame(first, acquireNow(pool, false), "back below its depth, the first is filled again");
    assertEquals(3, first.outstanding());
    assertEquals(1, spill.outstanding());
  }

  /**
   * A batch of pipelined requests reserved and finished with one call each counts as that many
   * requests: the least-loaded pick sees them, and a waiter for an exclusive lease gets the
   * connection when the last of them is done, not before.
   */
  @Test
  void requestsReservedAndDoneInBatchesCountOneByOne() {
    BackendPool pool = pool(config(2, 2, 100, 10_000));
    warm(pool, 2);
    PooledConnection busy = acquireNow(pool, false);
    assertTrue(busy.reserveAnother(15), "reserved beside the request in flight");
    assertEquals(16, busy.outstanding());
    PooledConnection other = acquireNow(pool, false);
    assertNotSame(busy, other, "the least loaded is the other one");
    other.done();
    assertEquals(0, other.outstanding());
    assertFalse(other.reserveAnother(4), "nothing outstanding: the pool must be asked");
    PooledConnection leased = acquireNow(pool, true);
    assertSame(other, leased, "the idle one is leased");
    Leases waiter = new Leases();
    pool.acquire(true, requester, waiter);
    assertEquals(1, pool.stats().waiting());

    busy.done(10);
    assertEquals(6, busy.outstanding());
    assertEquals(0, waiter.granted.size(), "six requests are still in flight on it");
    busy.done(6);
    assertEquals(0, busy.outstanding());
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, waiter.granted.size()));
    assertSame(busy, waiter.only());
    assertFalse(busy.reserveAnother(2), "leased exclusively now");
  }

  @Test
  void sharedAcquireWithNoConnectionOpensOneAndAnswersOnTheRequesterLoop() {
    BackendPool pool = pool(config(0, 4, 100, 5_000));
    Leases lease = new Leases();
    pool.acquire(false, requester, lease);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, lease.granted.size()));
    assertTrue(lease.onLoop.get(0));
    assertEquals(1, lease.only().outstanding());
    assertEquals(1, connector.connected());
  }

  @Test
  void neverMoreThanMaxSizeOpenExtrasWaitThenTimeOut() {
    BackendPool pool = pool(config(0, 3, 100, 300));
    Leases leases = new Leases();
    long start = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      pool.acquire(true, requester, leases);
    }
    Eventually.assertWithin(WITHIN, () -> {
      assertEquals(3, leases.granted.size());
      assertEquals(0, pool.stats().opening());
    });
    assertEquals(2, pool.stats().waiting());
    assertEquals(3, connector.connected());
    assertEquals(3, new HashSet<>(leases.granted).size());

    pool.release(leases.granted.get(0), true);
    Eventually.assertWithin(WITHIN, () -> assertEquals(4, leases.granted.size()));
    assertSame(leases.granted.get(0), leases.granted.get(3));

    Eventually.assertWithin(WITHIN, () -> {
      pool.maintain();
      assertEquals(1, leases.failed.size());
    });
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertInstanceOf(PoolExhaustedException.class, leases.failed.get(0));
    assertTrue(waitedMs >= 300, "failed after " + waitedMs + " ms, before acquire_timeout_ms");
    assertEquals(0, pool.stats().waiting());
    assertEquals(3, connector.connected(), "max_size held throughout");
  }

  @Test
  void releaseNotReusableClosesTheConnection() {
    BackendPool pool = pool(config(1, 1, 100, 5_000));
    warm(pool, 1);
    PooledConnection conn = acquireNow(pool, true);
    Channel ch = conn.channel();

    pool.release(conn, false);

    Eventually.assertWithin(WITHIN, () -> assertFalse(ch.isOpen()));
    assertFalse(conn.usable());
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, pool.stats().idle(), "a fresh one replaces it"));
    PooledConnection next = acquireNow(pool, true);
    assertNotSame(ch, next.channel());
    assertEquals(2, connector.connected());
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, server.open(), "the server saw the old one hang up"));
  }

  @Test
  void releaseNotReusableAboveMinIdleOpensNoReplacementForNobody() {
    BackendPool pool = pool(config(0, 2, 100, 5_000));
    Leases lease = new Leases();
    pool.acquire(true, requester, lease);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, lease.granted.size()));
    PooledConnection conn = lease.only();
    pool.release(conn, false);
    assertEquals(0, pool.stats().opening(), "nobody waits and min_idle is 0: no spare is opened");
    Eventually.assertWithin(WITHIN, () -> assertFalse(conn.channel().isOpen()));
    assertEquals(new BackendPool.PoolStats(0, 0, 0, 0), pool.stats());
    assertEquals(1, connector.connected());
  }

  @Test
  void aConnectionClosedByTheServerLeavesThePool() throws Exception {
    BackendPool pool = pool(config(1, 2, 100, 5_000));
    warm(pool, 1);
    server.close();
    Eventually.assertWithin(WITHIN, () -> assertEquals(new BackendPool.PoolStats(0, 0, 0, 0), pool.stats()));
  }

  /**
   * A backend that refuses connections must fail waiters promptly with the pool's own
   * {@link BackendDownException} (whose message is safe to show clients), not a raw socket error.
   */
  @Test
  void serverDownFailsTheWaiterPromptlyWithBackendDown() throws Exception {
    BackendPool pool = pool(config(0, 2, 100, 10_000));
    server.close();
    Leases lease = new Leases();
    long start = System.nanoTime();
    pool.acquire(true, requester, lease);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, lease.failed.size()));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms < 2_000, "failed after " + ms + " ms: should not wait for acquire_timeout_ms");
    assertFalse(backend.healthy());
    assertInstanceOf(BackendDownException.class, lease.failed.get(0),
        "got " + lease.failed.get(0).getClass().getName() + ": " + lease.failed.get(0).getMessage());
  }

  /**
   * A probe that times out while real requests are being answered met a busy machine, not a dead
   * backend: the backend stays up. Without answers the same timeout takes it down.
   */
  @Test
  void aProbeTimeoutWhileRequestsAreAnsweredDoesNotTakeTheBackendDown() {
    connector.answerProbe = false;
    BackendPool pool = pool(config(1, 2, 100, 10_000), new HealthConfig(1_000, 200, 30_000, 60_000));
    warm(pool, 1);

    pool.probe();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
    while (System.nanoTime() < until) {
      backend.started();
      backend.finished(1_000_000, 1.0, false);
      sleepMillis(20);
    }
    assertTrue(backend.healthy(), "requests were answered while the probe waited");
    Eventually.assertWithin(WITHIN, () -> {
      pool.maintain();
      assertEquals(1, pool.stats().idle());
    });

    pool.probe();
    Eventually.assertWithin(WITHIN, () -> assertFalse(backend.healthy(), "nothing answered: down"));
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void serverDownMarksTheBackendDownAndLaterAcquiresFailAtOnce() throws Exception {
    BackendPool pool = pool(config(1, 2, 100, 10_000), new HealthConfig(1_000, 1_000, 30_000, 60_000));
    warm(pool, 1);
    server.close();
    Eventually.assertWithin(WITHIN, () -> assertEquals(0, pool.stats().idle()));

    Leases first = new Leases();
    pool.acquire(true, requester, first);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, first.failed.size()));
    assertFalse(backend.healthy());
    assertEquals(1, backend.consecutiveFailures());
    assertTrue(backend.lastError() != null && !backend.lastError().isEmpty());
    assertFalse(backend.tryable(), "in back-off");

    Leases later = new Leases();
    pool.acquire(true, requester, later);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, later.failed.size()));
    assertInstanceOf(BackendDownException.class, later.failed.get(0));
    assertEquals(1, backend.consecutiveFailures(), "no connection attempted while in back-off");
    assertEquals(0, pool.stats().waiting());
  }

  @Test
  void aRestartedBackendIsUsedAgainAfterItsBackOff() throws Exception {
    int port = server.port();
    server.close();
    BackendPool pool = pool(config(1, 2, 100, 10_000));
    pool.maintain();
    Eventually.assertWithin(WITHIN, () -> assertFalse(backend.healthy()));
    server = new LocalTcpServer(port);
    Eventually.assertWithin(WITHIN, () -> {
      pool.maintain();
      assertEquals(1, pool.stats().idle());
    });
    assertTrue(backend.healthy());
    assertEquals(0, backend.consecutiveFailures());
  }

  @Test
  void maxOpensPerSecCapsOpens() {
    BackendPool pool = pool(config(0, 10, 2, 10_000));
    Leases leases = new Leases();
    long start = System.nanoTime();
    for (int i = 0; i < 10; i++) {
      pool.acquire(true, requester, leases);
    }
    Eventually.assertWithin(WITHIN, () -> {
      assertEquals(2, leases.granted.size());
      assertEquals(0, pool.stats().opening());
    });
    assertEquals(2, connector.connected(), "2 opens per second: no swarm of 10");
    assertEquals(8, pool.stats().waiting());

    Eventually.assertWithin(WITHIN, () -> {
      pool.maintain();
      assertEquals(3, leases.granted.size());
    });
    long ms = TimeUnit.NANOSECONDS.toMillis(leases.grantedAt.get(2) - start);
    assertTrue(ms >= 450, "the third open came after " + ms + " ms, before the rate allowed it");
    assertTrue(connector.connected() <= 2 + 2 * (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) / 1_000.0) + 1,
        "opened " + connector.connected());
  }

  @Test
  void idleConnectionsAboveMinIdleAreClosedAfterIdleTimeout() {
    BackendPool pool = pool(new PoolConfig("test", 1, 3, 100, 100, 2_000, 5_000));
    List<PooledConnection> held = new ArrayList<>();
    Leases leases = new Leases();
    for (int i = 0; i < 3; i++) {
      pool.acquire(true, requester, leases);
    }
    Eventually.assertWithin(WITHIN, () -> assertEquals(3, leases.granted.size()));
    held.addAll(leases.granted);
    held.forEach(c -> pool.release(c, true));
    assertEquals(3, pool.stats().idle());
    Eventually.assertWithin(WITHIN, () -> {
      pool.maintain();
      assertEquals(1, pool.stats().idle());
    });
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, server.open()));
  }

  @Test
  void closeFailsWaitersAndClosesConnections() {
    BackendPool pool = pool(config(1, 1, 100, 10_000));
    warm(pool, 1);
    PooledConnection held = acquireNow(pool, true);
    Leases waiting = new Leases();
    pool.acquire(true, requester, waiting);

    pool.close();

    Eventually.assertWithin(WITHIN, () -> assertEquals(1, waiting.failed.size()));
    assertInstanceOf(PoolClosedException.class, waiting.failed.get(0));
    Eventually.assertWithin(WITHIN, () -> assertFalse(held.channel().isOpen()));
    Leases after = new Leases();
    pool.acquire(false, requester, after);
    assertInstanceOf(PoolClosedException.class, after.failed.get(0));
  }

  /**
   * A connection still in its handshake when the pool closes is closed with it: left open, it
   * would hold what it had read until its handshake ended, which after shutdown is never.
   */
  @Test
  void closeClosesConnectionsStillInTheirHandshake() {
    connector.answerHandshake = false;
    BackendPool pool = pool(new PoolConfig("test", 0, 2, 100, 60_000, 60_000, 60_000));
    Leases lease = new Leases();
    pool.acquire(true, requester, lease);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, connector.connected(), "reached the handshake"));
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, server.open()));

    pool.close();

    Eventually.assertWithin(WITHIN, () -> assertEquals(0, server.open(),
        "the handshaking connection is closed by the pool, not left to its 60 s timeout"));
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, lease.failed.size()));
  }

  @Test
  void aHandshakeThatNeverAnswersFailsAfterConnectTimeout() {
    connector.answerHandshake = false;
    BackendPool pool = pool(new PoolConfig("test", 0, 2, 100, 60_000, 200, 10_000));
    Leases lease = new Leases();
    pool.acquire(true, requester, lease);
    Eventually.assertWithin(WITHIN, () -> assertEquals(1, lease.failed.size()));
    assertInstanceOf(ProbeTimeoutException.class, lease.failed.get(0));
    assertFalse(backend.healthy());
    Eventually.assertWithin(WITHIN, () -> assertEquals(0, server.open(), "the half-open connection is closed"));
  }

  /**
   * A health probe finds no free connection when every one is leased; it must not open one past
   * {@code max_size} (which then serves a waiter the cap should have held back).
   */
  @Test
  void probeNeverOpensPastMaxSize() {
    BackendPool pool = pool(config(1, 1, 100, 10_000));
    warm(pool, 1);
    acquireNow(pool, true);
    Leases waiting = new Leases();
    pool.acquire(true, requester, waiting);

    pool.probe();

    Eventually.assertWithin(WITHIN, () -> assertEquals(0, pool.stats().opening()));
    assertEquals(1, connector.connected(), "max_size is 1");
    assertEquals(0, waiting.granted.size(), "a second exclusive lease on a max_size 1 pool");
  }

  /**
   * An exclusive request waiting while the only connection carries shared requests must get it
   * once those requests are done, not time out next to an idle connection.
   */
  @Test
  void anExclusiveWaiterGetsTheConnectionOnceSharedRequestsAreDone() {
    BackendPool pool = pool(config(1, 1, 100, 10_000));
    warm(pool, 1);
    PooledConnection shared = acquireNow(pool, false);
    Leases exclusive = new Leases();
    pool.acquire(true, requester, exclusive);
    assertEquals(1, pool.stats().waiting());

    shared.done();

    Eventually.assertWithin(Duration.ofSeconds(2), () -> {
      pool.maintain(); // what the cluster runs every 200 ms
      assertEquals(1, exclusive.granted.size(), "pool " + pool.stats());
    });
  }

  @Test
  void poolsOfOneBackendShareItsMaxSize() {
    ConnectionBudget budget = new ConnectionBudget(2);
    BackendPool a = pool(config(0, 2, 100, 5_000), budget);
    BackendPool b = pool(config(0, 2, 100, 5_000), budget);
    Leases a1 = new Leases();
    Leases a2 = new Leases();
    a.acquire(true, requester, a1);
    a.acquire(true, requester, a2);
    Eventually.assertWithin(WITHIN, () -> assertEquals(2, a1.granted.size() + a2.granted.size()));

    Leases b1 = new Leases();
    b.acquire(true, requester, b1);
    assertEquals(0, b.stats().opening(), "no third connection to the backend is even started");
    b.maintain();
    assertEquals(0, b.stats().opening());
    assertEquals(0, b1.granted.size(), "the backend's two connections are both in use by the other variant");
    assertEquals(2, connector.connected());
    assertEquals(2, budget.used());
    assertTrue(budget.starved());

    a.release(a1.only(), true);
    a.maintain();
    assertEquals(2, connector.connected(), "an idle connection of another variant still holds its slot");
    assertTrue(a.closeOneIdle(), "what the cluster's upkeep does for a starved budget");
    Eventually.assertWithin(WITHIN, () -> {
      b.maintain();
      assertEquals(1, b1.granted.size());
    });
    assertEquals(3, connector.connected());
    assertTrue(budget.used() <= 2, "used " + budget.used());
    assertFalse(budget.starved());
  }

  @Test
  void theClusterFreesASlotOfAnotherVariantForWaiters() {
    ManualClock manual = new ManualClock();
    ManualScheduler scheduler = new ManualScheduler(manual);
    ClusterConfig cc = new ClusterConfig("c", "test", Credentials.NONE,
        List.of(new BackendConfig(new HostPort("127.0.0.1", server.port()), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("exclusive", 1, 1, 100, 600_000, 2_000, 600_000), RuWeights.DEFAULT,
        new HealthConfig(600_000, 1_000, 200, 2_000), Map.of());
    RandomSource random = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }

      @Override
      public double nextDouble() {
        return 0.5;
      }
    };
    Cluster cluster = new Cluster(cc, connector, bootstrap, manual, scheduler, random);
    try {
      cluster.start();
      Backend b = cluster.backends().get(0);
      Eventually.assertWithin(WITHIN, () -> assertEquals(1, cluster.pool(b, Cluster.DEFAULT_VARIANT).stats().idle()));
      Leases other = new Leases();
      cluster.pool(b, "other").acquire(true, requester, other);
      assertEquals(0, cluster.pool(b, "other").stats().opening(), "max_size 1 for the whole backend");
      assertEquals(0, other.granted.size(), "max_size 1 for the whole backend, held idle by the default pool");
      Eventually.assertWithin(WITHIN, () -> {
        scheduler.advanceMillis(200);
        assertEquals(1, other.granted.size());
      });
      assertEquals(0, cluster.pool(b, Cluster.DEFAULT_VARIANT).stats().idle(),
          "the default pool's min_idle waits while the other variant holds the backend's only slot");
      assertEquals(1, cluster.budget(b).used());
    } finally {
      cluster.close();
    }
  }

  // ---- helpers ----

  private PoolConfig config(int minIdle, int maxSize, int opensPerSec, long acquireTimeoutMs) {
    return new PoolConfig("test", minIdle, maxSize, opensPerSec, 60_000, 2_000, acquireTimeoutMs);
  }

  private BackendPool pool(PoolConfig config) {
    return pool(config, HEALTH);
  }

  private BackendPool pool(PoolConfig config, ConnectionBudget budget) {
    BackendPool pool = new BackendPool(backend, "test", config, HEALTH, bootstrap, connector, clock, budget);
    pools.add(pool);
    return pool;
  }

  private BackendPool pool(PoolConfig config, HealthConfig health) {
    BackendPool pool = new BackendPool(backend, "test", config, health, bootstrap, connector, clock);
    pools.add(pool);
    return pool;
  }

  private void warm(BackendPool pool, int idle) {
    pool.maintain();
    Eventually.assertWithin(WITHIN, () -> assertEquals(idle, pool.stats().idle()));
  }

  /** Acquires a connection that must be ready at once (the callback runs on this thread). */
  private PooledConnection acquireNow(BackendPool pool, boolean exclusive) {
    Leases lease = new Leases();
    pool.acquire(exclusive, requester, lease);
    assertEquals(1, lease.granted.size(), "a ready connection is granted at once");
    return lease.only();
  }

  /** A clock on {@link System#nanoTime()}: these tests run over real sockets in real time. */
  private static final class SystemClock implements Clock {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public long wallMillis() {
      return System.currentTimeMillis();
    }
  }

  /**
   * A protocol with nothing to say: the handshake and the probe succeed at once. Counts the
   * connections that reached the handshake (TCP connected), the client-side truth of how many
   * the pool opened; the server's accept count lags behind the kernel's backlog.
   */
  private static final class InstantConnector implements BackendConnector {
    volatile boolean answerHandshake = true;
    volatile int packDepth;
    volatile boolean answerProbe = true;
    private final AtomicInteger connected = new AtomicInteger();

    @Override
    public int sharedPackDepth() {
      return packDepth;
    }

    int connected() {
      return connected.get();
    }

    @Override
    public void initChannel(Channel channel) {
    }

    @Override
    public void handshake(PooledConnection connection, Promise<Void> ready) {
      connected.incrementAndGet();
      if (answerHandshake) {
        ready.setSuccess(null);
      }
    }

    @Override
    public void probe(PooledConnection connection, Promise<Void> result) {
      if (answerProbe) {
        result.setSuccess(null);
      }
    }
  }

  /** Records what the pool answers, when, and whether on the requester's event loop. */
  private final class Leases implements BackendPool.Lease {
    final List<PooledConnection> granted = new CopyOnWriteArrayList<>();
    final List<Long> grantedAt = new CopyOnWriteArrayList<>();
    final List<Boolean> onLoop = new CopyOnWriteArrayList<>();
    final List<Throwable> failed = new CopyOnWriteArrayList<>();

    @Override
    public void granted(PooledConnection connection) {
      grantedAt.add(System.nanoTime());
      onLoop.add(requester.inEventLoop());
      granted.add(connection);
    }

    @Override
    public void failed(Throwable cause) {
      failed.add(cause);
    }

    PooledConnection only() {
      assertEquals(1, granted.size(), "granted " + granted + ", failed " + failed);
      return granted.get(0);
    }
  }
}

package io.mproxy.protocol.redis;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.hint.QueryHints;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.QueryTimeout;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.time.EventLoopScheduler;
import io.mproxy.core.time.ReadBatch;
import io.mproxy.core.wire.TickFlusher;
import io.mproxy.core.wire.WriteCoalescer;
import io.mproxy.protocol.redis.command.CommandInfo;
import io.mproxy.protocol.redis.command.RedisCommandTable;
import io.mproxy.protocol.redis.command.RedisFingerprint;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Redis client connection: takes decoded commands in order, answers the ones the proxy owns
 * (AUTH, HELLO, CLIENT SETNAME, QUIT, RESET…), runs every other command through the core chain
 * (classify → admit) and forwards it to a backend connection, then hands replies back in the
 * order the commands came.
 *
 * <p>Routing state machine:
 * <ul>
 *   <li><b>shared</b> (default): commands are multiplexed over pooled connections shared by many
 *       clients. While a client has commands in flight they all go to the same connection, so a
 *       client's commands execute in the order it sent them.</li>
 *   <li><b>pinned</b>: commands that leave state on a connection (MULTI/WATCH, SUBSCRIBE,
 *       blocking commands, SELECT of another db, CLIENT REPLY OFF|SKIP, MONITOR) lease a
 *       connection exclusively; everything goes there until the state is gone and every reply
 *       has arrived, then the connection returns to the pool. Switching waits until the client
 *       has nothing in flight on the other connection.</li>
 * </ul>
 * Admission is head-of-line per client: a command waiting for RU holds back the commands after
 * it, never overtaken. All state is confined to the client's event loop.
 */
final class RedisSession extends ChannelInboundHandlerAdapter implements RespFrameDecoder.Commands {

  private static final Logger LOG = LoggerFactory.getLogger(RedisSession.class);
  private static final AtomicLong IDS = new AtomicLong();
  private static final int INBOX_HIGH = 1024;
  private static final int INBOX_LOW = 256;
  private static final int SLOTS_HIGH = 16_384;
  private static final RedisCommandTable COMMANDS = RedisCommandTable.standard();

  private enum ReplyMode { ON, OFF, SKIP_NEXT }

  private final ListenerContext listener;
  private final long id = IDS.incrementAndGet();
  private final ArrayDeque<RespFrame> inbox = new ArrayDeque<>();
  private final ArrayDeque<Slot> slots = new ArrayDeque<>();
  private final Subscriptions subscriptions = new Subscriptions();
  private ChannelHandlerContext ctx;
  /** Every reply to the client goes through it: a tick's small replies leave in one buffer. */
  private WriteCoalescer out;
  private java.util.function.Consumer<ByteBuf> toClient;
  private EventLoopScheduler scheduler;
  /** The listener's {@code query_timeout_ms} when this client connected (0: none). */
  private QueryTimeout queryTimeout = QueryTimeout.NONE;

  private boolean stalled;
  private boolean draining;
  private boolean closing;
  private boolean closed;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushNow;

  private boolean authenticated;
  private String user;
  private String clientName;
  private int protocolVersion = 2;
  private int db;
  private TenantIdentity tenant;
  private Classification classification;
  private long classifiedGeneration = -1;

  private PooledConnection shared;
  private int sharedOutstanding;
  /**
   * The shared connection whose reservations this session settles in batches: its pipelined
   * commands are counted here and reserved on the pool's count once per tick (one atomic update),
   * and its finished commands handed back the same way, or at once when the last one is done.
   */
  private PooledConnection batchConn;
  /** Identifies {@link #batchConn}: a job sent with another epoch is done one by one. */
  private int batchEpoch;
  /** This session's commands in flight on {@link #batchConn}. */
  private int batchInflight;
  /**
   * How many of them the pool counts ({@code outstanding}): at least one while any is in flight,
   * so the connection is never idle for the pool (or leased exclusively) under them.
   */
  private int batchHeld;
  private boolean settleScheduled;
  private final Runnable settleTask = this::settleScheduled;
  private PooledConnection pinned;
  private io.netty.channel.ChannelFutureListener pinnedCloseListener;
  private int pinnedOutstanding;
  private boolean inMulti;
  private boolean watching;
  private boolean monitor;
  private ReplyMode replyMode = ReplyMode.ON;
  /**
   * The last command description {@link #route} found {@linkplain Route#ORDINARY ordinary} for
   * any arguments: the same one again is routed without looking at its name.
   */
  private CommandInfo ordinaryInfo;
  /** Set by {@code MPROXY HINT}: the hints every following command carries. */
  private QueryHints connectionHints = QueryHints.NONE;

  RedisSession(ListenerContext listener) {
    this.listener = listener;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
    this.out = new WriteCoalescer(context);
    this.toClient = out::write;
    this.scheduler = new EventLoopScheduler(context.executor());
    this.queryTimeout = QueryTimeout.of(listener.config());
    this.db = connector().database();
    this.authenticated = !listener.config().auth().terminates();
    if (authenticated) {
      listener.handshakeCompleted(context.channel());
    }
  }

  // ---------------------------------------------------------------- inbound

  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof RespFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (closing || closed) {
      frame.release();
      return;
    }
    inbox.add(frame);
    if (inbox.size() >= INBOX_HIGH) {
      context.channel().config().setAutoRead(false);
    }
    drain();
  }

  /**
   * A command straight from the decoder, usually borrowed from its read buffer: processed at once
   * when nothing is queued before it (forwarded without becoming an object of its own if
   * admission and the connection lease answer at once), else kept and queued.
   */
  @Override
  public void command(RespFrame cmd) {
    if (closing || closed) {
      cmd.release();
      return;
    }
    if (draining || stalled || !inbox.isEmpty()) {
      inbox.add(cmd.keep());
      if (inbox.size() >= INBOX_HIGH) {
        ctx.channel().config().setAutoRead(false);
      }
      drain();
      return;
    }
    draining = true;
    try {
      process(cmd);
    } finally {
      draining = false;
    }
    maybeResumeReading();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      RespFrame cmd;
      while (!stalled && !closing && (cmd = inbox.poll()) != null) {
        process(cmd);
      }
    } finally {
      draining = false;
    }
    maybeResumeReading();
  }

  private void maybeResumeReading() {
    if (closed || closing) {
      return;
    }
    boolean ok = inbox.size() <= INBOX_LOW && slots.size() < SLOTS_HIGH && ctx.channel().isWritable();
    if (ok && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  /** Takes ownership of {@code cmd}. */
  private void process(RespFrame cmd) {
    if (cmd.argCount() == 0) {
      cmd.release();
      return;
    }
    String name = cmd.commandName();
    if (handledLocally(name, cmd)) {
      return;
    }
    if (!authenticated) {
      cmd.release();
      reply(newSlot(), RedisReplies.error("NOAUTH Authentication required."));
      return;
    }
    CommandInfo info = COMMANDS.lookup(cmd);
    Route route = info == ordinaryInfo ? Route.ORDINARY : route(name, cmd, info);
    if (route.refusal != null) {
      cmd.release();
      reply(newSlot(), RedisReplies.error(route.refusal));
      return;
    }
    Request request = new Request(identity(), RedisCommands.kind(info), name,
        RedisFingerprint.of(cmd, info), cmd.size(), ReadBatch.nanoTime(listener.clock()), !route.waitsByDesign)
        .hints(connectionHints);
    Job job = new Job(cmd, route);
    addSlot(job);
    stalled = true;
    Cluster cluster = listener.cluster();
    Gateway gateway = listener.gateway();
    gateway.admit(request, classification(), listener.origin(), cluster.weights(), scheduler, job,
        ReadBatch.nanoTime(gateway.clock()));
    if (job.cmd == cmd && cmd.isBorrowed()) {
      // admission or the lease has not answered yet: the command outlives the decoder's callback
      job.cmd = cmd.keep();
    }
  }

  /** Continues the pipeline after an asynchronous step of the head command finished. */
  private void resume() {
    stalled = false;
    if (!draining) {
      drain();
    }
  }

  // ---------------------------------------------------------------- routing

  /** Where a command goes and what it does to the session's state. */
  private static final class Route {
    /**
     * Most commands: shared, expecting one reply unless the session's reply mode or MONITOR says
     * otherwise, no pub/sub; never written to (a {@code Route} is not changed once returned).
     */
    static final Route ORDINARY = new Route();
    /** Shared and stateless, but an unsubscribe command: its subscriptions count its replies. */
    static final Route PLAIN = new Route();
    /** Names that change the session's state or how it is routed (besides blocking/subscribe). */
    static final Set<String> STATEFUL =
        Set.of("MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "MONITOR", "SELECT", "CLIENT");

    boolean pin;
    boolean waitsByDesign;
    String refusal;
    Runnable stateChange;
  }

  private Route route(String name, RespFrame cmd, CommandInfo info) {
    boolean blocking = info.isBlocking(cmd);
    boolean subscribe = Subscriptions.isSubscribe(name);
    if (!blocking && !subscribe && !Route.STATEFUL.contains(name)) {
      if (Subscriptions.isSubscriptionCommand(name)) {
        return Route.PLAIN;
      }
      if (!info.hasBlockOption()) {
        // whether it blocks does not depend on its arguments: the next one is known by identity
        ordinaryInfo = info;
      }
      return Route.ORDINARY;
    }
    Route r = new Route();
    r.waitsByDesign = blocking || subscribe || name.equals("MONITOR");
    switch (name) {
      case "MULTI":
        r.pin = true;
        r.stateChange = () -> inMulti = true;
        break;
      case "EXEC":
      case "DISCARD":
        r.stateChange = () -> {
          inMulti = false;
          watching = false;
        };
        break;
      case "WATCH":
        r.pin = true;
        r.stateChange = () -> watching = true;
        break;
      case "UNWATCH":
        r.stateChange = () -> watching = inMulti && watching;
        break;
      case "MONITOR":
        r.pin = true;
        break;
      case "SELECT": {
        r.pin = true;
        long selected;
        try {
          selected = cmd.argLong(1);
        } catch (RuntimeException e) {
          // invalid index: the server answers with an error and keeps the current db
          break;
        }
        r.stateChange = () -> {
          db = (int) selected;
          identityChanged();
        };
        break;
      }
      case "CLIENT":
        if (cmd.argCount() >= 3 && cmd.argEqualsIgnoreCase(1, "REPLY")) {
          r.pin = true;
        }
        break;
      default:
        if (Subscriptions.isSubscribe(name)) {
          r.pin = true;
          if (subscriptions.wouldOverflow(cmd)) {
            r.refusal = "mproxy: more than " + Subscriptions.MAX_SUBSCRIPTIONS
                + " subscriptions on one connection are not supported";
          }
        }
        if (blocking) {
          r.pin = true;
        }
        break;
    }
    return r;
  }

  private void onAdmitted(Job job) {
    if (closed) {
      job.cmd.release();
      job.cmd = null;
      job.ticket.complete(Outcome.ERROR, 0);
      return;
    }
    boolean wantPinned = job.route.pin || pinned != null;
    if (wantPinned && pinned == null) {
      if (sharedOutstanding > 0) {
        pendingSwitch = () -> onAdmitted(job);
        return;
      }
      // (the pipeline stays stalled until the pin is in place)
      acquire(true, job);
      return;
    }
    if (pinned != null) {
      send(pinned, false, job);
      return;
    }
    if (shared != null && sharedOutstanding > 0 && shared.usable()) {
      // keep this client's in-flight commands on one connection: they run in the order sent
      if (reserveOnShared()) {
        send(shared, true, job);
        return;
      }
    }
    acquire(false, job);
  }

  /**
   * Counts one more command on {@link #shared}, which this client has commands in flight on.
   * While the pool already counts some of them for this session, the command is only counted
   * here and reserved with the others at {@link #settleBatch}; else it is reserved at once.
   */
  private boolean reserveOnShared() {
    if (shared == batchConn && batchHeld > 0) {
      batchInflight++;
      scheduleSettle();
      return true;
    }
    if (shared.reserveAnother()) {
      reservedByPool(shared);
      return true;
    }
    return false;
  }

  /** The pool has counted one request of this session on {@code conn} (a grant or a reservation). */
  private void reservedByPool(PooledConnection conn) {
    if (conn != batchConn) {
      // jobs still in flight on the previous connection are done one by one from here on
      settleBatch();
      batchConn = conn;
      batchEpoch++;
      batchInflight = 0;
      batchHeld = 0;
    }
    batchHeld++;
    batchInflight++;
  }

  /**
   * Brings the pool's count of this session's requests on {@link #batchConn} to the number in
   * flight: one {@code reserveAnother(n)} for the commands sent since the last settle, or one
   * {@code done(n)} for those finished. Reserving cannot fail: the pool counts at least one of
   * this session's requests until then, so the connection is neither idle nor exclusive.
   */
  private void settleBatch() {
    int delta = batchInflight - batchHeld;
    if (delta == 0) {
      return;
    }
    PooledConnection conn = batchConn;
    batchHeld = batchInflight;
    if (delta < 0) {
      conn.done(-delta);
      return;
    }
    if (!conn.reserveAnother(delta)) {
      throw new IllegalStateException("a reservation failed under a held one on " + conn);
    }
  }

  /** Settles at the end of this tick: after the client's read, or the backend's. */
  private void scheduleSettle() {
    if (!settleScheduled) {
      settleScheduled = true;
      TickFlusher.later(ctx.executor(), settleTask);
    }
  }

  private void settleScheduled() {
    settleScheduled = false;
    settleBatch();
  }

  /** Runs when this client's last in-flight shared command completes, if a pin waits for it. */
  private Runnable pendingSwitch;

  /** Leases a connection for {@code job}: exclusive to pin it, else shared; the job is the lease callback. */
  private void acquire(boolean exclusive, Job job) {
    Cluster cluster = listener.cluster();
    Ticket ticket = job.ticket;
    Backend backend = cluster.select(ticket.request());
    if (backend == null) {
      if (cluster.circuitsOpen()) {
        refuseCommand(job, ticket.refuse(ShedReason.CIRCUIT_OPEN, cluster.circuitRetryAfterMs(),
            "every backend's circuit is open"));
        return;
      }
      failCommand(job, "no backend of cluster " + cluster.name() + " is available");
      return;
    }
    BackendPool pool = cluster.pool(backend, variant());
    job.leasing(pool, exclusive);
    pool.acquire(exclusive, (EventLoop) ctx.executor(), job);
  }

  /** An admitted command core refused before it reached a backend (the ticket has ended). */
  private void refuseCommand(Job job, Refusal refusal) {
    job.cmd.release();
    job.cmd = null;
    if (replyMode == ReplyMode.ON && refusal != null) {
      reply(job, RedisReplies.error(refusal.message()));
    } else {
      finishSilently(job);
    }
    resume();
  }

  private void failCommand(Job job, String why) {
    job.cmd.release();
    job.cmd = null;
    job.ticket.complete(Outcome.ERROR, 0);
    if (replyMode == ReplyMode.ON) {
      reply(job, RedisReplies.error("mproxy: error group=" + job.ticket.group()
          + " reason=backend_unavailable (" + why + ")"));
    } else {
      finishSilently(job);
    }
    resume();
  }

  private void send(PooledConnection conn, boolean viaShared, Job job) {
    RespFrame cmd = job.cmd;
    Route route = job.route;
    Ticket ticket = job.ticket;
    int expected = 1;
    boolean pubsubDuring = false;
    boolean pubsubAfter = false;
    boolean monitorAfter = false;
    if (route != Route.ORDINARY || monitor || replyMode != ReplyMode.ON || subscriptions.active()) {
      String name = cmd.commandName();
      expected = expectedReplies(name, cmd);
      pubsubDuring = subscriptions.active() || Subscriptions.isSubscribe(name);
      if (Subscriptions.isSubscriptionCommand(name)) {
        expected = expected == 0 ? 0 : subscriptions.apply(cmd);
      }
      pubsubAfter = subscriptions.active();
      monitorAfter = name.equals("MONITOR");
      if (route.stateChange != null) {
        route.stateChange.run();
      }
      if (monitorAfter) {
        monitor = true;
      }
    }
    if (viaShared) {
      sharedOutstanding++;
    } else {
      pinnedOutstanding++;
    }
    ticket.dispatched(conn.backend(), ReadBatch.nanoTime(listener.gateway().clock()));
    job.sending(conn, viaShared, batchEpoch, expected, pubsubDuring, pubsubAfter, monitorAfter);
    if (expected == 1 && !route.waitsByDesign) {
      // blocking commands, subscribe modes and MONITOR wait by design: no deadline of the proxy's
      long deadline = queryTimeout.deadlineNanos(ticket.request(), listener.clock(), 0);
      if (deadline != 0) {
        job.armDeadline(deadline);
      }
    }
    job.cmd = null;
    if (cmd.isBorrowed()) {
      handlerOf(conn).sendCopy(cmd.content(), cmd.base(), cmd.size(), job);
    } else {
      ByteBuf bytes = cmd.content().retain();
      cmd.release();
      handlerOf(conn).send(bytes, job);
    }
    resume();
  }

  /** How many replies the server sends for {@code cmd}, given CLIENT REPLY and MONITOR state. */
  private int expectedReplies(String name, RespFrame cmd) {
    if (monitor) {
      return 0;
    }
    if (name.equals("CLIENT") && cmd.argCount() >= 3 && cmd.argEqualsIgnoreCase(1, "REPLY")) {
      if (cmd.argEqualsIgnoreCase(2, "ON")) {
        replyMode = ReplyMode.ON;
        return 1;
      }
      if (cmd.argEqualsIgnoreCase(2, "OFF")) {
        replyMode = ReplyMode.OFF;
        return 0;
      }
      if (cmd.argEqualsIgnoreCase(2, "SKIP")) {
        if (replyMode == ReplyMode.ON) {
          replyMode = ReplyMode.SKIP_NEXT;
        }
        return 0;
      }
    }
    switch (replyMode) {
      case OFF:
        return 0;
      case SKIP_NEXT:
        replyMode = ReplyMode.ON;
        return 0;
      default:
        return 1;
    }
  }

  /**
   * One forwarded command from admission to its last reply, as one object: its slot in the
   * client's reply order, the admission callback, the pool-lease callback and the sink of its
   * backend replies (these used to be four or five objects per command). Admission and the lease
   * call back on the session's loop; replies arrive on the backend connection's loop.
   */
  private final class Job extends Slot implements AdmissionCallback, BackendPool.Lease, ReplySink {
    /** The command until it is written to a backend connection. */
    RespFrame cmd;
    final Route route;
    Ticket ticket;
    private BackendPool leasePool;
    private boolean leaseExclusive;
    private PooledConnection conn;
    private boolean viaShared;
    /** The session's {@link #batchEpoch} when sent (shared jobs only). */
    private int epoch;
    private int expected;
    private boolean pubsubDuring;
    private boolean pubsubAfter;
    private boolean monitorAfter;
    private long bytesOut;
    private boolean error;
    /** The client was answered (by the backend's last reply or by a timeout). */
    private boolean answered;
    /**
     * A timeout answered the client; the backend's reply is dropped when it comes. The command
     * stays queued on its backend connection meanwhile, so later commands' replies still match.
     */
    private boolean timedOut;
    private io.mproxy.core.time.Scheduler.Cancellable deadlineTimer;

    Job(RespFrame cmd, Route route) {
      this.cmd = cmd;
      this.route = route;
    }

    // ---- admission (session loop)

    @Override
    public void admitted(Ticket admittedTicket) {
      this.ticket = admittedTicket;
      onAdmitted(this);
    }

    @Override
    public void refused(Refusal refusal) {
      cmd.release();
      cmd = null;
      if (replyMode == ReplyMode.ON) {
        RedisSession.this.reply(this, RedisReplies.error(refusal.message()));
      } else {
        finishSilently(this);
      }
      resume();
    }

    // ---- pool lease (session loop)

    void leasing(BackendPool pool, boolean exclusive) {
      this.leasePool = pool;
      this.leaseExclusive = exclusive;
    }

    @Override
    public void granted(PooledConnection connection) {
      if (closed) {
        cmd.release();
        cmd = null;
        ticket.complete(Outcome.ERROR, 0);
        if (leaseExclusive) {
          leasePool.release(connection, true);
        } else {
          connection.done();
        }
        return;
      }
      if (leaseExclusive) {
        pin(connection);
        send(connection, false, this);
      } else {
        shared = connection;
        reservedByPool(connection);
        send(connection, true, this);
      }
    }

    @Override
    public void failed(Throwable cause) {
      if (conn == null) {
        // the lease failed: the command never left
        failCommand(this, cause instanceof io.mproxy.core.pool.PoolException pe
            ? pe.reason() : "connection failed");
        return;
      }
      ctx.executor().execute(this::connectionLost);
    }

    // ---- backend replies

    void sending(PooledConnection connection, boolean shared, int sentEpoch, int expectedReplies,
        boolean during, boolean after, boolean monitorMode) {
      this.conn = connection;
      this.viaShared = shared;
      this.epoch = sentEpoch;
      this.expected = expectedReplies;
      this.pubsubDuring = during;
      this.pubsubAfter = after;
      this.monitorAfter = monitorMode;
    }

    @Override
    public int expectedReplies() {
      return expected;
    }

    @Override
    public boolean pubsubDuring() {
      return pubsubDuring;
    }

    @Override
    public boolean pubsubAfter() {
      return pubsubAfter;
    }

    @Override
    public boolean monitorAfter() {
      return monitorAfter;
    }

    @Override
    public void reply(ByteBuf in, int index, int length, byte type, boolean last) {
      if (ctx.executor().inEventLoop()) {
        onReply(in, index, length, type, last);
        return;
      }
      // another loop's read buffer: keep the bytes until this loop runs the reply
      ByteBuf kept = in == null ? null : in.retainedSlice(index, length);
      ctx.executor().execute(() -> {
        try {
          onReply(kept, kept == null ? 0 : kept.readerIndex(), length, type, last);
        } finally {
          if (kept != null) {
            kept.release();
          }
        }
      });
    }

    /**
     * A hinted {@code timeout_ms} or the listener's {@code query_timeout_ms}: answer the client
     * with an error if the backend has not by {@code deadline}.
     */
    void armDeadline(long deadline) {
      long delay = deadline - listener.clock().nanoTime();
      deadlineTimer = scheduler.schedule(this::deadlinePassed,
          Math.max(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1), delay));
    }

    private void cancelDeadline() {
      if (deadlineTimer != null) {
        deadlineTimer.cancel();
        deadlineTimer = null;
      }
    }

    private void deadlinePassed() {
      deadlineTimer = null;
      if (answered || closed) {
        return;
      }
      answered = true;
      timedOut = true;
      ticket.complete(Outcome.TIMEOUT, bytesOut);
      if (QueryTimeout.hinted(ticket.request())) {
        listener.gateway().telemetry().hintTimeout(ticket.group());
      }
      add(RedisReplies.error("mproxy: timeout group=" + ticket.group() + " "
          + queryTimeout.setting(ticket.request()) + " (the command may still complete on the server)"));
      finish();
      flushReady();
    }

    /** On the session's loop; {@code in} is valid during the call only (see {@link ReplySink}). */
    private void onReply(ByteBuf in, int index, int length, byte type, boolean last) {
      if (timedOut) {
        if (last) {
          commandDone(conn, viaShared, epoch);
        }
        return;
      }
      if (in != null) {
        bytesOut += length;
        error |= ReplySink.isError(type);
        if (!closed) {
          deliver(this, in, index, length);
        }
      }
      if (last) {
        answered = true;
        cancelDeadline();
        finish();
        ticket.complete(error ? Outcome.ERROR : Outcome.OK, ticket.request().bytesIn(), bytesOut,
            ReadBatch.nanoTime(listener.gateway().clock()));
        commandDone(conn, viaShared, epoch);
      }
      flushReady();
    }

    private void connectionLost() {
      if (timedOut) {
        commandDone(conn, viaShared, epoch);
        return;
      }
      answered = true;
      cancelDeadline();
      ticket.complete(Outcome.ERROR, bytesOut);
      if (!closed && replyMode == ReplyMode.ON) {
        add(RedisReplies.error("mproxy: error group=" + ticket.group()
            + " reason=backend_unavailable (connection to the backend lost)"));
      }
      finish();
      commandDone(conn, viaShared, epoch);
      flushReady();
    }
  }

  private void commandDone(PooledConnection conn, boolean viaShared, int epoch) {
    if (viaShared) {
      if (epoch == batchEpoch) {
        batchInflight--;
        if (batchInflight == 0) {
          // the last one: the connection may be idle now, for an exclusive waiter or a switch
          settleBatch();
        } else {
          scheduleSettle();
        }
      } else {
        conn.done();
      }
      sharedOutstanding--;
      if (sharedOutstanding == 0) {
        Runnable next = pendingSwitch;
        if (next != null) {
          pendingSwitch = null;
          next.run();
        }
      }
      return;
    }
    if (conn != pinned) {
      return;
    }
    pinnedOutstanding--;
    maybeUnpin();
  }

  private boolean sessionStateOnConnection() {
    return inMulti || watching || monitor || subscriptions.active() || replyMode != ReplyMode.ON
        || db != connector().database();
  }

  private void pin(PooledConnection conn) {
    pinned = conn;
    handlerOf(conn).pushSink(this::onPush);
    pinnedCloseListener = f -> ctx.executor().execute(() -> onPinnedClosed(conn));
    conn.channel().closeFuture().addListener(pinnedCloseListener);
  }

  /** Gives the pinned connection back: reusable only when no session state is left on it. */
  private void unpin(boolean reusable) {
    PooledConnection conn = pinned;
    pinned = null;
    pinnedOutstanding = 0;
    conn.channel().closeFuture().removeListener(pinnedCloseListener);
    pinnedCloseListener = null;
    handlerOf(conn).pushSink(null);
    conn.pool().release(conn, reusable);
  }

  private void maybeUnpin() {
    if (pinned == null || pinnedOutstanding > 0 || sessionStateOnConnection()) {
      return;
    }
    unpin(true);
  }

  private void onPinnedClosed(PooledConnection conn) {
    if (pinned != conn || closed) {
      return;
    }
    boolean stateful = sessionStateOnConnection();
    unpin(false);
    if (stateful) {
      LOG.debug("session {}: pinned backend connection lost with session state; closing client", id);
      closing = true;
      flushReady();
    }
  }

  /** Frames that answer no command (pub/sub messages, pushes, MONITOR output). */
  private void onPush(RespFrame frame) {
    ctx.executor().execute(() -> {
      if (closed) {
        frame.release();
        return;
      }
      Slot s = newSlot();
      s.add(frame.content().retain());
      frame.release();
      s.finish();
      flushReady();
    });
  }

  // ---------------------------------------------------------------- commands the proxy owns

  private boolean handledLocally(String name, RespFrame cmd) {
    switch (name) {
      case "AUTH":
        auth(cmd);
        return true;
      case "HELLO":
        if (pinned != null) {
          cmd.release();
          reply(newSlot(), RedisReplies.error("mproxy: HELLO inside a transaction, subscription or"
              + " other pinned session state is not supported through the proxy"));
          return true;
        }
        RespFrame kept = cmd.keep();
        afterSharedDrained(() -> hello(kept));
        return true;
      case "QUIT":
        cmd.release();
        reply(newSlot(), RedisReplies.ok());
        closing = true;
        flushReady();
        return true;
      case "RESET":
        cmd.release();
        afterSharedDrained(() -> {
          reset();
          reply(newSlot(), RedisReplies.simple("RESET"));
        });
        return true;
      case "SELECT":
        if (pinned == null && cmd.argCount() == 2 && isDefaultDb(cmd)) {
          cmd.release();
          reply(newSlot(), RedisReplies.ok());
          return true;
        }
        return false;
      case "CLIENT":
        return client(cmd);
      case "MPROXY":
        mproxyCommand(cmd);
        return true;
      default:
        return false;
    }
  }

  /**
   * Runs {@code step} once this client has nothing in flight on a shared connection (it changes
   * which connections later commands use, so earlier ones must finish first); holds back the
   * commands behind it meanwhile.
   */
  private void afterSharedDrained(Runnable step) {
    if (sharedOutstanding == 0) {
      step.run();
      return;
    }
    stalled = true;
    pendingSwitch = () -> {
      step.run();
      resume();
    };
  }

  private boolean isDefaultDb(RespFrame cmd) {
    try {
      return cmd.argLong(1) == connector().database();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void auth(RespFrame cmd) {
    Slot slot = newSlot();
    int n = cmd.argCount();
    if (n < 2 || n > 3) {
      cmd.release();
      reply(slot, RedisReplies.error("ERR wrong number of arguments for 'auth' command"));
      return;
    }
    String name = n == 3 ? cmd.argString(1) : "default";
    String password = cmd.argString(n - 1);
    cmd.release();
    reply(slot, authenticate(name, password));
  }

  private ByteBuf authenticate(String name, String password) {
    AuthConfig auth = listener.config().auth();
    if (!auth.terminates()) {
      return RedisReplies.error("ERR AUTH <password> called without any password configured for the"
          + " default user. Are you sure your configuration is correct?");
    }
    java.util.Optional<String> blocked = listener.authFailures().refusal(ctx.channel().remoteAddress());
    if (blocked.isPresent()) {
      return RedisReplies.error("ERR " + blocked.get());
    }
    boolean ok = auth.user(name).map(u -> constantTimeEquals(u.password(), password)).orElse(false);
    if (!ok) {
      listener.authFailures().failed(ctx.channel().remoteAddress());
      return RedisReplies.error("WRONGPASS invalid username-password pair or user is disabled.");
    }
    listener.handshakeCompleted(ctx.channel());
    authenticated = true;
    user = name;
    identityChanged();
    return RedisReplies.ok();
  }

  private static boolean constantTimeEquals(String expected, String given) {
    if (expected == null || given == null) {
      return false;
    }
    return java.security.MessageDigest.isEqual(
        expected.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        given.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void hello(RespFrame cmd) {
    Slot slot = newSlot();
    try {
      int n = cmd.argCount();
      int proto = protocolVersion;
      int i = 1;
      if (n >= 2) {
        long v;
        try {
          v = cmd.argLong(1);
        } catch (RuntimeException e) {
          reply(slot, RedisReplies.error("ERR Protocol version is not an integer or out of range"));
          return;
        }
        if (v != 2 && v != 3) {
          reply(slot, RedisReplies.error("NOPROTO unsupported protocol version"));
          return;
        }
        proto = (int) v;
        i = 2;
      }
      String newName = null;
      while (i < n) {
        if (cmd.argEqualsIgnoreCase(i, "AUTH") && i + 2 < n) {
          ByteBuf result = authenticate(cmd.argString(i + 1), cmd.argString(i + 2));
          if (result.getByte(0) == '-') {
            reply(slot, result);
            return;
          }
          result.release();
          i += 3;
        } else if (cmd.argEqualsIgnoreCase(i, "SETNAME") && i + 1 < n) {
          newName = cmd.argString(i + 1);
          i += 2;
        } else {
          reply(slot, RedisReplies.error("ERR Syntax error in HELLO option '" + cmd.argString(i) + "'"));
          return;
        }
      }
      if (!authenticated) {
        reply(slot, RedisReplies.error("NOAUTH HELLO must be called with the client already authenticated,"
            + " otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client"
            + " and select the RESP protocol version at the same time"));
        return;
      }
      if (newName != null) {
        clientName = newName;
        identityChanged();
      }
      if (proto != protocolVersion) {
        protocolVersion = proto;
        shared = null;
      }
      reply(slot, RedisReplies.hello(ctx.alloc(), protocolVersion, connector().serverVersion(), id));
    } finally {
      cmd.release();
    }
  }

  /** CLIENT subcommands the proxy answers or refuses itself; others are forwarded. */
  private boolean client(RespFrame cmd) {
    if (cmd.argCount() < 2) {
      return false;
    }
    String sub = cmd.argString(1).toUpperCase(java.util.Locale.ROOT);
    switch (sub) {
      case "SETNAME": {
        Slot slot = newSlot();
        if (cmd.argCount() != 3) {
          cmd.release();
          reply(slot, RedisReplies.error("ERR wrong number of arguments for 'client|setname' command"));
          return true;
        }
        String name = cmd.argString(2);
        cmd.release();
        if (name.chars().anyMatch(c -> c <= ' ' || c > '~')) {
          reply(slot, RedisReplies.error("ERR Client names cannot contain spaces, newlines or special characters."));
          return true;
        }
        clientName = name.isEmpty() ? null : name;
        identityChanged();
        reply(slot, RedisReplies.ok());
        return true;
      }
      case "GETNAME":
        cmd.release();
        reply(newSlot(), RedisReplies.bulk(clientName, protocolVersion));
        return true;
      case "ID":
        cmd.release();
        reply(newSlot(), RedisReplies.integer(id));
        return true;
      case "KILL":
      case "PAUSE":
      case "UNPAUSE":
      case "TRACKING":
      case "CACHING":
      case "NO-EVICT":
      case "NO-TOUCH":
        cmd.release();
        reply(newSlot(), RedisReplies.error("mproxy: CLIENT " + sub
            + " is not supported through the proxy (backend connections are shared)"));
        return true;
      default:
        return false;
    }
  }

  /**
   * {@code MPROXY HINT key=value…} sets the hints of this connection's following commands
   * (replacing earlier ones; honoured only for tenants with {@code allow_hints}), and
   * {@code MPROXY HINT RESET} clears them. Answered locally: the backend never sees it.
   */
  private void mproxyCommand(RespFrame cmd) {
    Slot slot = newSlot();
    int n = cmd.argCount();
    if (n < 3 || !cmd.argEqualsIgnoreCase(1, "HINT")) {
      cmd.release();
      reply(slot, RedisReplies.error("ERR mproxy: usage: MPROXY HINT key=value [key=value ...] | MPROXY HINT RESET"));
      return;
    }
    if (n == 3 && cmd.argEqualsIgnoreCase(2, "RESET")) {
      cmd.release();
      connectionHints = QueryHints.NONE;
      reply(slot, RedisReplies.ok());
      return;
    }
    StringBuilder text = new StringBuilder();
    for (int i = 2; i < n && text.length() < io.mproxy.core.hint.HintParser.MAX_SCAN; i++) {
      text.append(cmd.argString(i)).append(' ');
    }
    cmd.release();
    connectionHints = io.mproxy.core.hint.HintParser.fromDirective(text, false);
    reply(slot, RedisReplies.ok());
  }

  private void reset() {
    connectionHints = QueryHints.NONE;
    if (pinned != null) {
      unpin(false);
    }
    inMulti = false;
    watching = false;
    monitor = false;
    replyMode = ReplyMode.ON;
    subscriptions.clear();
    db = connector().database();
    protocolVersion = 2;
    shared = null;
    clientName = null;
    if (listener.config().auth().terminates()) {
      authenticated = false;
      user = null;
    }
    identityChanged();
  }

  // ---------------------------------------------------------------- identity

  private TenantIdentity identity() {
    TenantIdentity t = tenant;
    if (t == null) {
      t = new TenantIdentity(listener.config().name(), user, Integer.toString(db), clientName);
      tenant = t;
    }
    return t;
  }

  /** User, db or client name changed: the tenant must be classified again. */
  private void identityChanged() {
    tenant = null;
    classification = null;
  }

  private Classification classification() {
    long gen = listener.gateway().generation();
    if (classification == null || classifiedGeneration != gen) {
      classification = listener.gateway().classify(identity());
      classifiedGeneration = gen;
    }
    return classification;
  }

  private String variant() {
    return protocolVersion == 3 ? RedisBackendConnector.RESP3 : Cluster.DEFAULT_VARIANT;
  }

  private RedisBackendConnector connector() {
    return (RedisBackendConnector) listener.cluster().connector();
  }

  private static RedisBackendHandler handlerOf(PooledConnection conn) {
    return conn.attachment();
  }

  // ---------------------------------------------------------------- outbound

  private Slot newSlot() {
    return addSlot(new Slot());
  }

  /** Queues {@code s} for the client's next reply in order. */
  private <S extends Slot> S addSlot(S s) {
    slots.add(s);
    if (slots.size() >= SLOTS_HIGH) {
      ctx.channel().config().setAutoRead(false);
    }
    return s;
  }

  /**
   * Passes a reply part of {@code slot} on to the client: when the slot is the client's next
   * reply (the common case), copied straight into the client's outgoing buffer, after any parts
   * the slot was holding; otherwise kept as a retained slice until the slots before it are done.
   */
  private void deliver(Slot slot, ByteBuf in, int index, int length) {
    if (slots.peek() != slot) {
      slot.add(in.retainedSlice(index, length));
      return;
    }
    slot.drainTo(toClient);
    out.copy(in, index, length);
    scheduleFlush();
  }

  private void reply(Slot slot, ByteBuf bytes) {
    if (closed) {
      bytes.release();
      return;
    }
    slot.add(bytes);
    slot.finish();
    flushReady();
  }

  private void finishSilently(Slot slot) {
    slot.finish();
    flushReady();
  }

  private void flushReady() {
    if (closed) {
      return;
    }
    boolean wrote = false;
    Slot head;
    while ((head = slots.peek()) != null && head.done()) {
      slots.poll();
      head.drainTo(toClient);
      wrote = true;
    }
    if (wrote) {
      scheduleFlush();
    }
    if (closing && slots.isEmpty()) {
      out.writeGathered();
      ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
          .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
      return;
    }
    maybeResumeReading();
  }

  /** Flushes the client's outgoing buffer at the end of this tick. */
  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      TickFlusher.later(ctx.executor(), flushTask);
    }
  }

  private void flushNow() {
    flushScheduled = false;
    if (!closed) {
      out.flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext context) {
    boolean writable = context.channel().isWritable();
    if (!writable) {
      context.channel().config().setAutoRead(false);
    } else {
      maybeResumeReading();
    }
    if (pinned != null) {
      pinned.channel().config().setAutoRead(writable);
    }
    context.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    if (cause instanceof DecoderException) {
      String msg = cause.getCause() != null && cause.getCause().getMessage() != null
          ? cause.getCause().getMessage() : String.valueOf(cause.getMessage());
      LOG.debug("session {}: protocol error: {}", id, msg);
      context.channel().config().setAutoRead(false);
      Slot slot = newSlot();
      slot.add(RedisReplies.error("ERR Protocol error: " + msg));
      slot.finish();
      closing = true;
      inbox.forEach(RespFrame::release);
      inbox.clear();
      flushReady();
      return;
    }
    LOG.debug("session {}: {}", id, cause.toString());
    context.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    closed = true;
    out.discard();
    inbox.forEach(RespFrame::release);
    inbox.clear();
    slots.forEach(Slot::release);
    slots.clear();
    Runnable waiting = pendingSwitch;
    pendingSwitch = null;
    if (waiting != null) {
      waiting.run();
    }
    if (pinned != null) {
      unpin(pinnedOutstanding == 0 && !sessionStateOnConnection());
    }
    context.fireChannelInactive();
  }
}

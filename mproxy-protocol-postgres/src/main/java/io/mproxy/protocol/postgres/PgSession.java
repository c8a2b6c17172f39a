package io.mproxy.protocol.postgres;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.hint.QueryHints;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PoolException;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.sql.SqlClassification;
import io.mproxy.core.sql.SqlShapes;
import io.mproxy.core.time.EventLoopScheduler;
import io.mproxy.core.time.ReadBatch;
import io.mproxy.core.time.Scheduler;
import io.mproxy.core.wire.WriteCoalescer;
import io.mproxy.protocol.postgres.codec.PgDecodeError;
import io.mproxy.protocol.postgres.codec.PgFrameDecoder;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.mproxy.protocol.postgres.codec.StartupPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL client connection, as an explicit state machine:
 * {@code STARTUP → (TLS) → AUTH → LOGIN → READY → CLOSED}.
 *
 * <p>In READY, client messages are cut into requests at their sync points (a simple Query, a
 * Sync, a FunctionCall): each request is classified and admitted by the core chain, then written
 * to a backend connection leased exclusively from the pool. In {@code transaction} pool mode the
 * lease is given back when the backend reports ReadyForQuery "idle" with nothing outstanding; in
 * {@code session} mode, or once the client leaves state behind that cannot move (LISTEN, session
 * SET, temp tables…), the lease lasts until the client disconnects. Requests may be pipelined:
 * tickets complete in order, one per ReadyForQuery.
 *
 * <p>In transaction mode named prepared statements are renamed to shared server-side names and
 * prepared on whichever connection the client gets ({@link PgStatement}); the session settings of
 * the start-up packet follow the client to every connection ({@link PgParams}). Backend messages
 * are relayed as they come, except the answers to what the proxy itself added, which are
 * swallowed. Everything runs on the client channel's event loop; backend events hop onto it.
 */
final class PgSession extends ChannelInboundHandlerAdapter implements PgBackendSink {

  private static final Logger LOG = LoggerFactory.getLogger(PgSession.class);

  /** A name no client statement maps to: Parse/Close of it produce exactly the answer a client expects. */
  private static final String NOOP_STATEMENT = "mp_noop";
  /** Client bytes buffered while waiting for admission or a connection before reading pauses. */
  private static final int PENDING_PAUSE_BYTES = 1 << 20;
  /** A Parse message's parameter-type section declaring no types. */
  private static final ByteBuf NO_PARAM_TYPES =
      Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[] {0, 0}).asReadOnly());

  private enum State { STARTUP, AUTH, PASSTHROUGH_AUTH, LOGIN, READY, CLOSED }

  /** What the proxy expects back for one of the messages it wrote that needs bookkeeping. */
  private enum Expect { PARSE_RELAY, PARSE_SWALLOW, CLOSE_RELAY, CLOSE_SWALLOW, SYNC }

  /** One request: the client messages up to a sync point, and their answer. */
  private static final class Req {
    Ticket ticket;
    Refusal refusal;
    long bytesIn;
    long bytesOut;
    boolean syncSent;
    boolean error;
    /** Its hinted timeout_ms passed and the backend was asked to cancel it. */
    boolean timedOut;
    /** The hinted timeout_ms timer, cancelled when the request ends first. */
    Scheduler.Cancellable hintTimer;

    Req(Ticket ticket, Refusal refusal) {
      this.ticket = ticket;
      this.refusal = refusal;
    }

    /** A finished request made new, for the session's next one. */
    Req reuse(Ticket t) {
      ticket = t;
      refusal = null;
      bytesIn = 0;
      bytesOut = 0;
      syncSent = false;
      error = false;
      timedOut = false;
      hintTimer = null;
      return this;
    }
  }

  /**
   * The admission callback of one request. When admission answers at once on the session's loop
   * (the usual case) the object is kept for the next request; one that was queued may be answered
   * later, maybe from another thread, so it is never reused.
   */
  private final class Admission implements AdmissionCallback {
    long generation;
    /** Answered on the session's loop (read right after admit() returns: answered within it). */
    boolean answered;

    @Override
    public void admitted(Ticket ticket) {
      if (loop.inEventLoop()) {
        answered = true;
        onAdmitted(ticket, generation);
      } else {
        long g = generation;
        loop.execute(() -> onAdmitted(ticket, g));
      }
    }

    @Override
    public void refused(Refusal refusal) {
      if (loop.inEventLoop()) {
        answered = true;
        onRefused(refusal, generation);
      } else {
        long g = generation;
        loop.execute(() -> onRefused(refusal, g));
      }
    }
  }

  /**
   * The wait for a pooled connection of one request. Kept for the next request once granted on
   * the session's loop: at once within {@code acquire}, or later from the pool's queue, which
   * hands a grant over on the loop that asked and holds no reference to the wait afterwards (at
   * 200 clients over a pool of 20 nearly every request waits in that queue).
   */
  private final class LeaseWait implements BackendPool.Lease {
    BackendPool pool;
    boolean login;
    long generation;
    boolean answered;
    /** Set by {@code acquire} once it has returned: a grant from then on recycles this wait itself. */
    boolean queued;

    @Override
    public void granted(PooledConnection connection) {
      if (loop.inEventLoop()) {
        answered = true;
        onGranted(pool, connection, login, generation);
        if (queued && spareLeaseWait == null) {
          queued = false;
          pool = null;
          spareLeaseWait = this;
        }
      } else {
        BackendPool p = pool;
        boolean l = login;
        long g = generation;
        loop.execute(() -> onGranted(p, connection, l, g));
      }
    }

    @Override
    public void failed(Throwable cause) {
      boolean l = login;
      long g = generation;
      onLoop(() -> {
        if (state == State.CLOSED || !l && g != waitGeneration) {
          return;
        }
        acquiring = false;
        String why = cause instanceof PoolException pe ? pe.reason() : String.valueOf(cause.getMessage());
        connectFailed(l, why);
      });
    }
  }

  private final ListenerContext listener;
  private final PgProtocolAdapter adapter;
  /** A finished request, an admission callback and a lease callback kept for the next request. */
  private Req spareReq;
  private Admission spareAdmission;
  private LeaseWait spareLeaseWait;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  private final ArrayDeque<Req> inflight = new ArrayDeque<>();
  private final ArrayDeque<Expect> expects = new ArrayDeque<>();
  private final ArrayDeque<String> parsedNames = new ArrayDeque<>();
  private final Map<String, PgStatement> statements = new HashMap<>();
  /**
   * The statement the last Bind named, with its name's bytes: a client runs the same few
   * statements over and over, so a Bind is matched by bytes, with no name decoded per execution.
   * Cleared whenever {@link #statements} changes.
   */
  private PgStatement lastBound;
  private byte[] lastBoundName;
  private final PgParams params = new PgParams();
  private ChannelHandlerContext ctx;
  /**
   * Every write to the client goes through it: a relayed run of backend messages and the
   * ReadyForQuery after it (or an error and its ReadyForQuery) leave as one buffer, one send.
   */
  private WriteCoalescer out;
  private EventLoop loop;
  private Scheduler scheduler;
  private PgListenerOptions options;
  private PgProtocolAdapter.ClusterState clusterState;
  private State state = State.STARTUP;
  private PgClientAuth auth;
  private String user;
  private String database;
  private String variant;
  private TenantIdentity tenant;
  private Classification classification;
  private long classifiedGeneration = -1;
  private int pid;
  private int secret;
  private boolean userCounted;

  // READY state.
  private PooledConnection lease;
  /** Passthrough mode: the client's own server connection (not pooled) and its backend. */
  private Backend passthroughTarget;
  private PgBackend backend;
  private boolean acquiring;
  private boolean admitting;
  private long waitGeneration;
  private Req current;
  private Request pendingRequest;
  /** The classification of the simple Query that starts the current request, reused when it is forwarded. */
  private SqlClassification queryClass;
  private String queryText;
  /**
   * The text and classification of the Parse that starts the current request, decoded and
   * classified by {@link #startRequest}: reused when that Parse is forwarded, not decoded again
   * (the extended protocol's unnamed statement comes with every transaction).
   */
  private String parseText;
  private SqlClassification parseClass;
  private long lastActivityNanos;
  private int pendingBytes;
  private int swallowReady;
  private boolean copyIn;
  private byte txStatus = 'I';
  private String pinned;
  private boolean sessionMode;
  /** Client-bound messages written and not yet flushed. */
  private boolean flushPending;
  /** Inside the backend channel's read on this loop: its readComplete will flush. */
  private boolean inBackendRead;
  private boolean loginDone;
  private boolean writeInTransaction;
  private Scheduler.Cancellable queryTimer;
  private Scheduler.Cancellable waitTimer;
  private Scheduler.Cancellable idleTxTimer;

  /** A runaway rule cancelled one of this session's tickets (one hook per session, not per request). */
  private final Runnable cancelHook = () -> onLoop(this::cancelRequested);

  PgSession(ListenerContext listener, PgProtocolAdapter adapter) {
    this.listener = listener;
    this.adapter = adapter;
  }

  // ------------------------------------------------------------------ channel events

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.out = new WriteCoalescer(ctx);
    this.loop = ctx.channel().eventLoop();
    this.scheduler = new EventLoopScheduler(loop);
    this.options = adapter.listenerOptions(listener.config());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.CLOSED) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof PgDecodeError e) {
      protocolViolation(e.message());
      return;
    }
    if (msg instanceof StartupPacket p) {
      try {
        startupPacket(p);
      } finally {
        p.release();
      }
      return;
    }
    if (!(msg instanceof ByteBuf frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    switch (state) {
      case PASSTHROUGH_AUTH -> {
        if (backend == null) {
          frame.release();
          protocolViolation("unexpected message before the server answered");
        } else {
          backendWrite(frame);
          backend.flush();
        }
      }
      case AUTH -> {
        if (auth == null) {
          frame.release();
          protocolViolation("unexpected message while the user is looked up");
        } else {
          authMessage(frame);
        }
      }
      case LOGIN, READY -> {
        if (!isFrontendType(frame.getByte(frame.readerIndex()))) {
          byte t = frame.getByte(frame.readerIndex());
          frame.release();
          protocolViolation("invalid frontend message type " + (t & 0xff));
          return;
        }
        pending.add(frame);
        pendingBytes += frame.readableBytes();
        if (pendingBytes > PENDING_PAUSE_BYTES && (admitting || acquiring || !loginDone)) {
          ctx.channel().config().setAutoRead(false);
        }
        // Requests are cut and forwarded at channelReadComplete, when the whole batch the client
        // flushed is known (a Parse+Sync pair can then be answered without a backend).
      }
      default -> {
        frame.release();
        protocolViolation("unexpected message before start-up completed");
      }
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (state == State.READY) {
      pump();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    PgBackend b = backend;
    if (b != null) {
      b.context().channel().config().setAutoRead(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    shutdown();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("client {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  // ------------------------------------------------------------------ start-up

  private void startupPacket(StartupPacket p) {
    if (state != State.STARTUP) {
      protocolViolation("unexpected start-up packet");
      return;
    }
    switch (p.code()) {
      case StartupPacket.SSL_REQUEST -> sslRequest();
      case StartupPacket.GSSENC_REQUEST -> writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
      case StartupPacket.CANCEL_REQUEST -> {
        if (p.body().readableBytes() >= 8) {
          adapter.cancel(p.body().getInt(p.body().readerIndex()), p.body().getInt(p.body().readerIndex() + 4));
        }
        close();
      }
      case StartupPacket.PROTOCOL_3_0 -> startup(p.body());
      default -> protocolViolation("unsupported start-up code " + p.code());
    }
  }

  private void sslRequest() {
    if (options.tls() == null || ctx.pipeline().get(SslHandler.class) != null) {
      writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
      return;
    }
    // startTls: the 'S' goes out in clear, everything after it is TLS.
    SslHandler ssl = new SslHandler(options.tls().context().newEngine(ctx.alloc()), true);
    ctx.pipeline().addFirst("tls", ssl);
    writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
  }

  private void startup(ByteBuf body) {
    Map<String, String> startup = new LinkedHashMap<>();
    try {
      while (body.isReadable() && body.getByte(body.readerIndex()) != 0) {
        String k = PgMessages.readCString(body);
        String v = PgMessages.readCString(body);
        startup.put(k, v);
      }
    } catch (IllegalArgumentException e) {
      protocolViolation("invalid start-up packet");
      return;
    }
    decoder().typed();
    user = startup.get("user");
    if (user == null || user.isEmpty()) {
      fatal("28000", "no PostgreSQL user name specified in startup packet");
      return;
    }
    database = startup.getOrDefault("database", user);
    if (database.isEmpty()) {
      database = user;
    }
    String problem = params.startup(startup, options.ignoreStartupParameters());
    if (problem != null) {
      fatal("08P01", problem);
      return;
    }
    tenant = new TenantIdentity(listener.config().name(), user, database, params.application());
    AuthConfig authConfig = listener.config().auth();
    if (!authConfig.terminates()) {
      passthrough(startup);
      return;
    }
    java.util.Optional<String> blocked = listener.authFailures().refusal(ctx.channel().remoteAddress());
    if (blocked.isPresent()) {
      fatal("28000", blocked.get());
      return;
    }
    PgClientAuth.Secret s = authConfig.user(user).map(PgProtocolAdapter::secretOf).orElse(null);
    state = State.AUTH;
    String authQuery = s == null ? adapter.clusterState(listener.cluster()).options().authQuery() : null;
    if (authQuery == null) {
      beginAuth(s);
      return;
    }
    ctx.channel().config().setAutoRead(false);
    PgAuthQuery.lookup(listener.cluster(), authQuery, user, loop, answer -> onLoop(() -> {
      if (state != State.AUTH) {
        return;
      }
      ctx.channel().config().setAutoRead(true);
      if (answer.error() != null) {
        LOG.warn("listener {}: {}", listener.config().name(), answer.error());
        fatal("08006", "mproxy: cannot look the user up: " + answer.error());
        return;
      }
      beginAuth(answer.secret());
    }));
  }

  private void beginAuth(PgClientAuth.Secret s) {
    auth = adapter.newAuth(user, s, options.authMethod());
    writeAndFlush(auth.start(ctx.alloc()));
  }

  private void authMessage(ByteBuf frame) {
    try {
      if (frame.getByte(frame.readerIndex()) != PgMessages.PASSWORD) {
        protocolViolation("expected a password message");
        return;
      }
      PgClientAuth.Result r = auth.receive(ctx.alloc(), frame);
      switch (r.step()) {
        case SEND_AND_WAIT -> writeAndFlush(r.reply());
        case FAILED -> {
          listener.authFailures().failed(ctx.channel().remoteAddress());
          fatal("28P01", r.failure());
        }
        case OK -> {
          if (r.reply() != null) {
            out.write(r.reply());
          }
          authenticated();
        }
        default -> throw new IllegalStateException(r.step().name());
      }
    } finally {
      frame.release();
    }
  }

  private void authenticated() {
    auth = null;
    listener.handshakeCompleted(ctx.channel());
    if (!adapter.countUser(listener.config().name(), user, options.maxClientConnectionsPerUser())) {
      fatal("53300", "mproxy: too many connections for user \"" + user + "\" (max_client_connections_per_user "
          + options.maxClientConnectionsPerUser() + ")");
      return;
    }
    userCounted = true;
    writeAndFlush(PgMessages.authentication(ctx.alloc(), PgMessages.AUTH_OK));
    state = State.LOGIN;
    Cluster cluster = listener.cluster();
    clusterState = adapter.clusterState(cluster);
    sessionMode = !"transaction".equalsIgnoreCase(cluster.config().pool().mode());
    variant = database.equals(clusterState.options().database()) ? Cluster.DEFAULT_VARIANT : database;
    int[] key = adapter.register(this);
    pid = key[0];
    secret = key[1];
    acquire(true);
  }

  /**
   * Passthrough: the client authenticates to the server itself over its own server connection
   * (opened with the client's start-up packet, never pooled), so the proxy needs no user list.
   * The session is pinned to that connection; requests are still classified, admitted and
   * metered. TLS to the server is not used in this mode.
   */
  private void passthrough(Map<String, String> startup) {
    state = State.PASSTHROUGH_AUTH;
    sessionMode = true;
    Cluster cluster = listener.cluster();
    clusterState = adapter.clusterState(cluster);
    Backend target = cluster.selectFor(tenant);
    if (target == null) {
      fatal("08006", "mproxy: no healthy backend in cluster " + cluster.name());
      return;
    }
    passthroughTarget = target;
    ctx.channel().config().setAutoRead(false);
    adapter.connectPassthrough(ctx.channel(), target, f -> onLoop(() -> {
      if (state != State.PASSTHROUGH_AUTH) {
        if (f.isSuccess()) {
          f.channel().close();
        }
        return;
      }
      if (!f.isSuccess()) {
        fatal("08006", "mproxy: cannot connect to the backend: " + f.cause().getMessage());
        return;
      }
      backend = f.channel().pipeline().get(PgBackend.class);
      backend.sink(this);
      ctx.channel().config().setAutoRead(true);
      f.channel().writeAndFlush(PgMessages.startup(f.channel().alloc(), startup));
    }));
  }

  /** Passthrough: the server's side of authentication goes to the client as is. */
  private void passthroughAuthAnswer(byte type, ByteBuf frame) {
    switch (type) {
      case PgMessages.BACKEND_KEY_DATA -> {
        backend.keyData(frame.getInt(frame.readerIndex() + 5), frame.getInt(frame.readerIndex() + 9));
        int[] real = adapter.registerAs(this, backend.pid(), backend.secret());
        if (real != null) {
          pid = real[0];
          secret = real[1];
        }
        relay(frame, false);
      }
      case PgMessages.READY_FOR_QUERY -> {
        if (!adapter.countUser(listener.config().name(), user, options.maxClientConnectionsPerUser())) {
          frame.release();
          fatal("53300", "mproxy: too many connections for user \"" + user + "\"");
          return;
        }
        userCounted = true;
        loginDone = true;
        state = State.READY;
        listener.handshakeCompleted(ctx.channel());
        relay(frame, true);
        pump();
      }
      case PgMessages.ERROR_RESPONSE -> {
        relay(frame, true);
        close();
      }
      default -> relay(frame, type == PgMessages.AUTHENTICATION);
    }
  }

  /** The first connection: validates the database and settings, and gives the server's parameters. */
  private void loginConnected() {
    Map<String, String> server;
    synchronized (backend.serverParams()) {
      server = new LinkedHashMap<>(backend.serverParams());
    }
    ByteBuf statuses = ctx.alloc().buffer();
    PgMessages.parameterStatuses(statuses, server);
    out.write(statuses);
    if (sessionMode && backend.pid() != 0) {
      // The client keeps this server process for its whole session: it sees the real key, so
      // pg_backend_pid(), pg_cancel_backend() and its own CancelRequests behave as direct.
      int[] real = adapter.registerAs(this, backend.pid(), backend.secret());
      if (real != null) {
        adapter.unregister(pid, this);
        pid = real[0];
        secret = real[1];
      }
    }
    out.write(PgMessages.backendKeyData(ctx.alloc(), pid, secret));
    writeAndFlush(PgMessages.readyForQuery(ctx.alloc(), (byte) 'I'));
    loginDone = true;
    state = State.READY;
    ctx.channel().config().setAutoRead(true);
    maybeRelease();
    pump();
  }

  // ------------------------------------------------------------------ requests

  private void pump() {
    while (state == State.READY && !pending.isEmpty()) {
      ByteBuf msg = pending.peek();
      byte type = msg.getByte(msg.readerIndex());
      if (current == null) {
        if (type == PgMessages.TERMINATE) {
          pending.poll().release();
          close();
          return;
        }
        if (copyIn && isCopyMessage(type) && backend != null && !inflight.isEmpty()) {
          pending.poll();
          pendingBytes -= msg.readableBytes();
          Req last = inflight.peekLast();
          last.bytesIn += msg.readableBytes();
          if (type != PgMessages.COPY_DATA) {
            copyIn = false;
          }
          backendWrite(msg);
          continue;
        }
        if (admitting || acquiring) {
          break;
        }
        if (lease == null && !sessionMode && txStatus == 'I' && prepareLocally()) {
          continue;
        }
        startRequest(msg);
        if (current == null) {
          break; // admission is asynchronous
        }
        continue;
      }
      if (current.refusal != null) {
        pending.poll();
        pendingBytes -= msg.readableBytes();
        msg.release();
        if (isSyncPoint(type)) {
          current.syncSent = true;
          inflight.add(current);
          current = null;
          answerSynthetic();
        }
        continue;
      }
      if (backend == null) {
        break; // waiting for a connection
      }
      pending.poll();
      pendingBytes -= msg.readableBytes();
      // the message startRequest looked at: the request's first, since nothing of it went out yet
      boolean first = current.bytesIn == 0;
      current.bytesIn += msg.readableBytes();
      if (type == PgMessages.COPY_DONE || type == PgMessages.COPY_FAIL) {
        copyIn = false;
      }
      try {
        forward(msg, type, first);
      } catch (IllegalArgumentException | IndexOutOfBoundsException malformed) {
        // A message whose fields do not parse (e.g. a Bind without its terminators).
        if (msg.refCnt() > 0) {
          msg.release();
        }
        protocolViolation("invalid message of type '" + (char) type + "'");
        return;
      }
      if (isSyncPoint(type)) {
        current.syncSent = true;
        inflight.add(current);
        current = null;
      }
    }
    if (state == State.READY && pendingBytes <= PENDING_PAUSE_BYTES && !ctx.channel().config().isAutoRead()
        && (backend == null || backend.context().channel().isWritable())) {
      ctx.channel().config().setAutoRead(true);
    }
    if (backend != null) {
      backend.relayParseComplete(parseAnswersRelayedAsIs());
      backend.flush();
    }
  }

  /**
   * Whether every answer still awaited is a Sync's or the ParseComplete of an unnamed statement:
   * such a ParseComplete is relayed as is and, when a ReadyForQuery follows it, there is nothing to
   * forget, so it may come in a relayed run with the rest of the answer (one slice, one delivery).
   * Set before each flush to the server, so it holds before any answer to what is flushed can
   * arrive; an awaited answer that needs a look (a named Parse, a swallowed one, a Close) turns it
   * off until that answer has come.
   */
  private boolean parseAnswersRelayedAsIs() {
    for (Expect e : expects) {
      if (e != Expect.PARSE_RELAY && e != Expect.SYNC) {
        return false;
      }
    }
    for (String name : parsedNames) {
      if (!name.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * A lone Parse of a named statement followed by Sync (what PQprepare and pgbench -M prepared
   * send) needs no backend in transaction mode: the statement is remembered and prepared on
   * whichever connection first runs it. Answering it here saves a round trip, and above all it
   * cannot wait for a connection while this client's peers hold them all (a driver that prepares
   * synchronously for one client while its other clients are mid-transaction would deadlock).
   * A syntax error is then reported when the statement is first executed.
   */
  private boolean prepareLocally() {
    ByteBuf head = pending.peek();
    if (pending.size() < 2 || head.getByte(head.readerIndex()) != PgMessages.PARSE
        || head.readableBytes() > 5 && head.getByte(head.readerIndex() + 5) == 0) {
      // checked before the iterator: a Bind/Execute/Sync batch comes here per transaction, and
      // with the extended protocol a Parse of the unnamed statement (never prepared locally)
      return false;
    }
    java.util.Iterator<ByteBuf> it = pending.iterator();
    ByteBuf parse = it.next();
    ByteBuf sync = it.next();
    if (parse.getByte(parse.readerIndex()) != PgMessages.PARSE
        || sync.getByte(sync.readerIndex()) != PgMessages.SYNC) {
      return false;
    }
    ByteBuf body = parse.duplicate().skipBytes(5);
    String name;
    String sql;
    try {
      name = PgMessages.readCString(body);
      sql = PgMessages.readCString(body);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (name.isEmpty()) {
      return false;
    }
    statements.put(name, PgStatement.of(name, sql, body));
    lastBound = null;
    pending.poll();
    pending.poll();
    pendingBytes -= parse.readableBytes() + sync.readableBytes();
    parse.release();
    sync.release();
    out.write(PgMessages.single(ctx.alloc(), PgMessages.PARSE_COMPLETE));
    writeAndFlush(PgMessages.readyForQuery(ctx.alloc(), txStatus));
    return true;
  }

  /** The message types a client may send after start-up; anything else ends the session, as PostgreSQL does. */
  private static boolean isFrontendType(byte type) {
    switch (type) {
      case PgMessages.QUERY, PgMessages.PARSE, PgMessages.BIND, PgMessages.DESCRIBE, PgMessages.EXECUTE,
          PgMessages.CLOSE, PgMessages.SYNC, PgMessages.FLUSH, PgMessages.TERMINATE,
          PgMessages.COPY_DATA, PgMessages.COPY_DONE, PgMessages.COPY_FAIL, PgMessages.FUNCTION_CALL:
        return true;
      default:
        return false;
    }
  }

  private static boolean isSyncPoint(byte type) {
    return type == PgMessages.SYNC || type == PgMessages.QUERY || type == PgMessages.FUNCTION_CALL;
  }

  private static boolean isCopyMessage(byte type) {
    return type == PgMessages.COPY_DATA || type == PgMessages.COPY_DONE || type == PgMessages.COPY_FAIL;
  }

  /** Classifies the request that starts with {@code first} and asks admission for it. */
  private void startRequest(ByteBuf first) {
    byte firstType = first.getByte(first.readerIndex());
    PgStatement named = firstType == PgMessages.BIND ? boundStatement(first) : null;
    // A simple query's ASCII text is read in place: no String per query (forward() decodes it
    // only for the statements whose text matters afterwards).
    QueryText text = firstType == PgMessages.QUERY ? QueryText.of(first) : null;
    String sql = named != null ? named.sql() : text != null ? null : sqlOf(first);
    CharSequence scanned = text != null ? text : sql;
    SqlShapes.Shape shape = named != null || scanned == null ? null
        : firstType == PgMessages.QUERY ? adapter.sqlShapes().ofQuery(scanned) : adapter.sqlShapes().ofStatement(sql);
    SqlClassification sc = named != null ? named.classification() : shape == null ? null : shape.classification();
    queryClass = firstType == PgMessages.QUERY ? sc : null;
    queryText = firstType == PgMessages.QUERY ? sql : null;
    parseText = firstType == PgMessages.PARSE ? sql : null;
    parseClass = firstType == PgMessages.PARSE ? sc : null;
    QueryHints hints = PgSql.hints(scanned);
    if (text != null) {
      text.clear();
    }
    RequestKind kind = sc == null ? RequestKind.SESSION : sc.kind();
    if (txStatus != 'I') {
      // A transaction with a write is charged as a write, up to and including its COMMIT.
      if (kind == RequestKind.WRITE) {
        writeInTransaction = true;
      } else if (writeInTransaction) {
        kind = RequestKind.WRITE;
      }
    }
    String fingerprint = named != null ? named.fingerprint()
        : shape == null ? String.valueOf((char) firstType) : shape.fingerprint();
    String command = sc == null ? fingerprint : sc.verb();
    Request request = new Request(tenant, kind, command, fingerprint, first.readableBytes(),
        ReadBatch.nanoTime(listener.clock()), true).hints(hints);
    admitting = true;
    long generation = ++waitGeneration;
    pendingRequest = request;
    Admission callback = spareAdmission != null ? spareAdmission : new Admission();
    spareAdmission = null;
    callback.generation = generation;
    callback.answered = false;
    Gateway gateway = listener.gateway();
    gateway.admit(request, classification(), listener.origin(), listener.cluster().weights(),
        scheduler, callback, ReadBatch.nanoTime(gateway.clock()));
    if (callback.answered) {
      spareAdmission = callback; // answered within admit(): nobody holds it any more
    }
    if (admitting && generation == waitGeneration) {
      startWaitTimer(generation, request);
    }
  }

  private void onAdmitted(Ticket ticket, long generation) {
    if (state != State.READY || generation != waitGeneration) {
      ticket.complete(Outcome.ERROR, 0);
      return;
    }
    admitting = false;
    Req r = spareReq;
    spareReq = null;
    current = r != null ? r.reuse(ticket) : new Req(ticket, null);
    if (backend != null) {
      dispatched();
      pump();
    } else {
      acquire(false);
    }
  }

  private void onRefused(Refusal refusal, long generation) {
    if (state != State.READY || generation != waitGeneration) {
      return;
    }
    admitting = false;
    cancelWaitTimer();
    current = new Req(null, refusal);
    pump();
  }

  private void dispatched() {
    waitGeneration++;
    cancelWaitTimer();
    Ticket ticket = current.ticket;
    ticket.dispatched(lease != null ? lease.backend() : passthroughTarget,
        ReadBatch.nanoTime(listener.gateway().clock()));
    // a runaway cancel rule stops the query the way a client's CancelRequest does
    ticket.onCancel(cancelHook);
    armHintDeadline(current);
    if (options.queryTimeoutMs() > 0 && queryTimer == null) {
      PgBackend b = backend;
      queryTimer = scheduler.schedule(() -> {
        queryTimer = null;
        if (backend == b && !inflight.isEmpty() || backend == b && current != null) {
          LOG.debug("client {}: query_timeout, cancelling", ctx.channel().remoteAddress());
          cancelBackendQuery();
          armCancelGrace(b);
        }
      }, TimeUnit.MILLISECONDS.toNanos(options.queryTimeoutMs()));
    }
  }

  /**
   * A backend that does not end the statement another query_timeout_ms after the cancel (a
   * frozen server, a path that drops packets) would hold the client forever: its connection is
   * closed, which answers the client FATAL 08006 and drops the connection from the pool.
   */
  private void armCancelGrace(PgBackend b) {
    queryTimer = scheduler.schedule(() -> {
      queryTimer = null;
      if (backend == b && (!inflight.isEmpty() || current != null)) {
        LOG.warn("client {}: the backend did not answer a cancel within query_timeout_ms={}; closing its connection",
            ctx.channel().remoteAddress(), options.queryTimeoutMs());
        b.context().channel().close();
      }
    }, TimeUnit.MILLISECONDS.toNanos(options.queryTimeoutMs()));
  }

  /** query_wait_timeout: a request that is neither admitted nor on a connection in time is refused. */
  private void startWaitTimer(long generation, Request request) {
    long ms = options.queryWaitTimeoutMs();
    if (ms <= 0 || waitTimer != null) {
      return; // armed once per request: the wait for admission and for a connection count together
    }
    waitTimer = scheduler.schedule(() -> {
      waitTimer = null;
      if (generation != waitGeneration || state != State.READY) {
        return;
      }
      waitGeneration++;
      Refusal refusal = Refusal.rejected(request.group() == null ? "default" : request.group(),
          ShedReason.QUEUE_FULL, -1, "query_wait_timeout " + ms + " ms");
      if (current != null && current.ticket != null) {
        current.ticket.complete(Outcome.TIMEOUT, 0);
        current = new Req(null, refusal);
      } else {
        current = new Req(null, refusal);
      }
      admitting = false;
      acquiring = false;
      pump();
    }, TimeUnit.MILLISECONDS.toNanos(ms));
  }

  /** The client's named statement a Bind refers to, or null. */
  private PgStatement boundStatement(ByteBuf bind) {
    int portalEnd = bind.indexOf(bind.readerIndex() + 5, bind.writerIndex(), (byte) 0);
    if (portalEnd < 0) {
      return null;
    }
    int nameEnd = bind.indexOf(portalEnd + 1, bind.writerIndex(), (byte) 0);
    return nameEnd < 0 ? null : statementNamed(bind, portalEnd + 1, nameEnd);
  }

  /** The client's named statement whose name is {@code msg[from, end)}, or null (also for the unnamed one). */
  private PgStatement statementNamed(ByteBuf msg, int from, int end) {
    int length = end - from;
    if (length == 0) {
      return null;
    }
    byte[] last = lastBoundName;
    if (lastBound != null && last.length == length) {
      int i = 0;
      while (i < length && msg.getByte(from + i) == last[i]) {
        i++;
      }
      if (i == length) {
        return lastBound;
      }
    }
    String name = msg.toString(from, length, java.nio.charset.StandardCharsets.UTF_8);
    PgStatement stmt = statements.get(name);
    if (stmt != null) {
      lastBound = stmt;
      lastBoundName = ByteBufUtil.getBytes(msg, from, length);
    }
    return stmt;
  }

  /** The NUL-terminated UTF-8 string at {@code from}, read in place (no duplicate of the buffer). */
  private static String cstringAt(ByteBuf msg, int from) {
    int end = from > msg.writerIndex() ? -1 : msg.indexOf(from, msg.writerIndex(), (byte) 0);
    if (end < 0) {
      throw new IllegalArgumentException("string without terminator");
    }
    return msg.toString(from, end - from, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The statement text a request starts with, when the message carries or names one. */
  private String sqlOf(ByteBuf msg) {
    int start = msg.readerIndex();
    byte type = msg.getByte(start);
    try {
      switch (type) {
        case PgMessages.QUERY:
          return cstringAt(msg, start + 5);
        case PgMessages.PARSE: {
          int nameEnd = msg.indexOf(start + 5, msg.writerIndex(), (byte) 0);
          return nameEnd < 0 ? null : cstringAt(msg, nameEnd + 1);
        }
        case PgMessages.BIND: {
          PgStatement s = boundStatement(msg);
          return s == null ? null : s.sql();
        }
        default:
          return null;
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Classification classification() {
    long gen = listener.gateway().generation();
    if (classification == null || gen != classifiedGeneration) {
      classification = listener.gateway().classify(tenant);
      classifiedGeneration = gen;
    }
    return classification;
  }

  // ------------------------------------------------------------------ connections

  private void acquire(boolean login) {
    Cluster cluster = listener.cluster();
    Backend target = cluster.selectFor(tenant);
    if (target == null && !login && current != null && current.ticket != null && cluster.circuitsOpen()) {
      cancelWaitTimer();
      current = new Req(null, current.ticket.refuse(ShedReason.CIRCUIT_OPEN, cluster.circuitRetryAfterMs(),
          "every backend's circuit is open"));
      pump();
      return;
    }
    if (target == null) {
      connectFailed(login, "no healthy backend in cluster " + cluster.name());
      return;
    }
    acquiring = true;
    BackendPool pool = cluster.pool(target, variant);
    long generation = waitGeneration;
    Request waiting = pendingRequest;
    LeaseWait wait = spareLeaseWait != null ? spareLeaseWait : new LeaseWait();
    spareLeaseWait = null;
    wait.pool = pool;
    wait.login = login;
    wait.generation = generation;
    wait.answered = false;
    wait.queued = false;
    pool.acquire(true, loop, wait);
    if (wait.answered) {
      wait.pool = null;
      spareLeaseWait = wait; // granted within acquire(): nobody holds it any more
    } else {
      wait.queued = true; // a later grant on this loop makes it spare again
    }
    if (acquiring && !login && waiting != null && generation == waitGeneration
        && !poolGivesUpFirst(cluster, waiting)) {
      startWaitTimer(generation, waiting);
    }
  }

  /**
   * Whether the pool refuses this wait (acquire_timeout_ms) before query_wait_timeout_ms would
   * pass: then no timer is needed. With many clients over a small pool nearly every request waits
   * for a connection, and a timer per request was a scheduled task and a lambda each.
   */
  private boolean poolGivesUpFirst(Cluster cluster, Request request) {
    long acquireMs = cluster.config().pool().acquireTimeoutMs();
    long waitMs = options.queryWaitTimeoutMs();
    if (acquireMs <= 0 || waitMs <= 0 || waitTimer != null) {
      return false;
    }
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(ReadBatch.nanoTime(listener.clock()) - request.arrivalNanos());
    // a second of margin: the pool expires its waiters from a periodic sweep
    return waitedMs + acquireMs + 1000 < waitMs;
  }

  private void onGranted(BackendPool pool, PooledConnection connection, boolean login, long generation) {
    if (state == State.CLOSED || !login && generation != waitGeneration) {
      pool.release(connection, true);
      return;
    }
    acquiring = false;
    leased(connection, login);
  }

  private void connectFailed(boolean login, String why) {
    if (login) {
      String state = sqlStateIn(why);
      fatal(state == null ? "08006" : state, state == null ? "mproxy: cannot connect to the backend: " + why
          : messageAfterState(why));
      return;
    }
    cancelWaitTimer();
    Req r = current;
    if (r != null && r.ticket != null) {
      r.ticket.complete(Outcome.ERROR, 0);
    }
    current = new Req(null, Refusal.rejected(r != null && r.ticket != null ? r.ticket.group() : "default",
        ShedReason.NO_BACKEND, 1000, "no backend connection: " + why));
    pump();
  }

  /** A backend start-up failure carries the server's "SQLSTATE: message"; returns the SQLSTATE. */
  private static String sqlStateIn(String why) {
    int i = why.indexOf("refused the connection: ");
    if (i < 0) {
      return null;
    }
    String rest = why.substring(i + "refused the connection: ".length());
    return rest.length() > 7 && rest.charAt(5) == ':' ? rest.substring(0, 5) : null;
  }

  private static String messageAfterState(String why) {
    int i = why.indexOf("refused the connection: ");
    return why.substring(i + "refused the connection: ".length() + 7);
  }

  private void leased(PooledConnection connection, boolean login) {
    lease = connection;
    backend = connection.attachment();
    backend.sink(this);
    if (backend.isClosed()) {
      return; // closed(...) already ran through the sink
    }
    String setup = params.sync(backend.applied());
    if (setup != null) {
      swallowReady++;
      backendWrite(PgMessages.query(ctx.alloc(), setup));
      backend.flush();
    }
    if (login) {
      if (setup == null) {
        loginConnected();
      }
      return; // loginConnected runs when the setup's ReadyForQuery arrives
    }
    if (current != null && current.ticket != null) {
      dispatched();
    }
    pump();
  }

  /** Gives the connection back when nothing ties the client to it any more. */
  private void maybeRelease() {
    if (lease == null || sessionMode || pinned != null || txStatus != 'I' || current != null
        || !inflight.isEmpty() || swallowReady > 0 || copyIn || !loginDone) {
      return;
    }
    releaseLease(true);
  }

  private void releaseLease(boolean reusable) {
    flushPending(); // the backend's readComplete goes to its next holder from now on
    inBackendRead = false;
    PooledConnection c = lease;
    PgBackend b = backend;
    lease = null;
    backend = null;
    expects.clear();
    parsedNames.clear();
    cancelQueryTimer();
    if (c == null) {
      return;
    }
    b.idle();
    // (paused only when this client stopped being writable: a volatile read, not the setter's
    // atomic exchange, on every release)
    if (!b.context().channel().config().isAutoRead()) {
      b.context().channel().config().setAutoRead(true);
    }
    c.pool().release(c, reusable && !b.isClosed());
  }

  // ------------------------------------------------------------------ forwarding

  /** {@code first}: the request's first message, the one {@link #startRequest} classified. */
  private void forward(ByteBuf msg, byte type, boolean first) {
    if (sessionMode) {
      if (type == PgMessages.QUERY) {
        expects.add(Expect.SYNC);
      } else if (type == PgMessages.SYNC || type == PgMessages.FUNCTION_CALL) {
        expects.add(Expect.SYNC);
      }
      backendWrite(msg);
      return;
    }
    switch (type) {
      case PgMessages.PARSE -> parse(msg, first);
      case PgMessages.BIND -> bind(msg);
      case PgMessages.DESCRIBE -> describe(msg);
      case PgMessages.CLOSE -> closeMessage(msg);
      case PgMessages.QUERY -> {
        SqlClassification c = queryClass;
        String sql = queryText;
        if (c == null || sql == null && needsText(c)) {
          sql = sql != null ? sql : sqlOf(msg);
          c = c != null || sql == null ? c : PgSql.classify(sql);
        }
        if (c != null && sql != null) {
          noteSessionEffects(sql, c);
        }
        queryClass = null;
        queryText = null;
        expects.add(Expect.SYNC);
        backendWrite(msg);
      }
      case PgMessages.SYNC, PgMessages.FUNCTION_CALL -> {
        expects.add(Expect.SYNC);
        backendWrite(msg);
      }
      default -> backendWrite(msg);
    }
  }

  /** Whether {@link #noteSessionEffects} needs the statement's text for this classification. */
  private static boolean needsText(SqlClassification c) {
    return c.setsSessionState() || "DISCARD".equals(c.verb()) || "DEALLOCATE".equals(c.verb());
  }

  /** Statements that leave session state: pin the client, or forget what the server dropped. */
  private void noteSessionEffects(String sql, SqlClassification c) {
    String verb = c.verb();
    if ("DISCARD".equals(verb) || "DEALLOCATE".equals(verb) && PgSql.isDeallocateAll(sql)) {
      backend.clearPrepared();
      backend.applied().clear();
      return;
    }
    if (pinned == null && c.setsSessionState()) {
      String why = PgSql.pinReason(sql, c);
      if (why != null) {
        pin(why);
      }
    }
  }

  private void pin(String why) {
    pinned = why;
    LOG.debug("client {}: pinned to its backend connection ({})", ctx.channel().remoteAddress(), why);
  }

  private void parse(ByteBuf msg, boolean first) {
    int start = msg.readerIndex();
    if (msg.getByte(start + 5) == 0) {
      // the unnamed statement: its text as startRequest read it when this Parse began the request
      int sqlEnd = msg.indexOf(start + 6, msg.writerIndex(), (byte) 0);
      if (sqlEnd < 0) {
        throw new IllegalArgumentException("string without terminator");
      }
      boolean known = first && parseText != null;
      String unnamedSql = known ? parseText : msg.toString(start + 6, sqlEnd - start - 6, java.nio.charset.StandardCharsets.UTF_8);
      SqlClassification c = known && parseClass != null ? parseClass
          : adapter.sqlShapes().ofStatement(unnamedSql).classification();
      parseText = null;
      parseClass = null;
      noteSessionEffects(unnamedSql, c);
      expects.add(Expect.PARSE_RELAY);
      parsedNames.add("");
      backendWrite(msg);
      return;
    }
    ByteBuf body = msg.duplicate().skipBytes(5);
    String name = PgMessages.readCString(body);
    String sql = PgMessages.readCString(body);
    PgStatement stmt = PgStatement.of(name, sql, body);
    msg.release();
    statements.put(name, stmt);
    lastBound = null;
    ByteBuf out = ctx.alloc().buffer();
    if (backend.hasPrepared(stmt.serverName())) {
      PgMessages.parse(out, NOOP_STATEMENT, "", NO_PARAM_TYPES.duplicate());
      PgMessages.close(out, (byte) 'S', NOOP_STATEMENT);
      expects.add(Expect.PARSE_RELAY);
      parsedNames.add("");
      expects.add(Expect.CLOSE_SWALLOW);
    } else {
      evictIfFull(out);
      PgMessages.parse(out, stmt.serverName(), sql, stmt.paramTypes());
      backend.markPrepared(stmt.serverName());
      expects.add(Expect.PARSE_RELAY);
      parsedNames.add(stmt.serverName());
    }
    backendWrite(out);
  }

  /** Prepares {@code stmt} on the current connection first if it is not there (answer swallowed). */
  private void ensurePrepared(PgStatement stmt) {
    if (backend.hasPrepared(stmt.serverName())) {
      return;
    }
    ByteBuf out = ctx.alloc().buffer();
    evictIfFull(out);
    PgMessages.parse(out, stmt.serverName(), stmt.sql(), stmt.paramTypes());
    backend.markPrepared(stmt.serverName());
    expects.add(Expect.PARSE_SWALLOW);
    parsedNames.add(stmt.serverName());
    backendWrite(out);
  }

  private void evictIfFull(ByteBuf out) {
    while (backend.preparedCount() >= clusterState.options().maxPreparedStatements()) {
      String eldest = backend.eldestPrepared();
      if (eldest == null) {
        return;
      }
      backend.forgetPrepared(eldest);
      PgMessages.close(out, (byte) 'S', eldest);
      expects.add(Expect.CLOSE_SWALLOW);
    }
  }

  private void bind(ByteBuf msg) {
    int start = msg.readerIndex();
    int portalEnd = msg.indexOf(start + 5, msg.writerIndex(), (byte) 0);
    int nameEnd = portalEnd < 0 ? -1 : msg.indexOf(portalEnd + 1, msg.writerIndex(), (byte) 0);
    if (nameEnd < 0) {
      throw new IllegalArgumentException("string without terminator");
    }
    PgStatement stmt = statementNamed(msg, portalEnd + 1, nameEnd);
    if (stmt == null) {
      backendWrite(msg);
      return;
    }
    noteSessionEffects(stmt.sql(), stmt.classification());
    ensurePrepared(stmt);
    // The portal name and everything after the statement name are copied as they are.
    int rest = msg.writerIndex() - nameEnd - 1;
    ByteBuf out = ctx.alloc().buffer(msg.readableBytes() + 48);
    out.writeByte(PgMessages.BIND).writeInt(0);
    // msg.getBytes into out, not out.writeBytes(msg): the latter takes an NIO view of the source
    // (a new ByteBuffer per call) with Netty's adaptive allocator
    msg.getBytes(start + 5, out, portalEnd + 1 - (start + 5));
    PgMessages.cstring(out, stmt.serverName());
    msg.getBytes(nameEnd + 1, out, rest);
    out.setInt(out.readerIndex() + 1, out.writerIndex() - out.readerIndex() - 1);
    msg.release();
    backendWrite(out);
  }

  private void describe(ByteBuf msg) {
    byte what = msg.getByte(msg.readerIndex() + 5);
    if (what != 'S') {
      requireCString(msg, msg.readerIndex() + 6);
      backendWrite(msg); // a portal: its name is the client's own, unchanged on the server
      return;
    }
    ByteBuf body = msg.duplicate().skipBytes(6);
    String name = PgMessages.readCString(body);
    PgStatement stmt = what == 'S' && !name.isEmpty() ? statements.get(name) : null;
    if (stmt == null) {
      backendWrite(msg);
      return;
    }
    ensurePrepared(stmt);
    msg.release();
    ByteBuf out = ctx.alloc().buffer();
    out.writeByte(PgMessages.DESCRIBE).writeInt(0).writeByte('S');
    PgMessages.cstring(out, stmt.serverName());
    out.setInt(1, out.writerIndex() - 1);
    backendWrite(out);
  }

  private void closeMessage(ByteBuf msg) {
    byte what = msg.getByte(msg.readerIndex() + 5);
    if (what != 'S') {
      requireCString(msg, msg.readerIndex() + 6);
      expects.add(Expect.CLOSE_RELAY);
      backendWrite(msg);
      return;
    }
    ByteBuf body = msg.duplicate().skipBytes(6);
    String name = PgMessages.readCString(body);
    if (what == 'S' && !name.isEmpty()) {
      // The server-side statement is shared: keep it; answer the client's Close with a no-op one.
      statements.remove(name);
      lastBound = null;
      msg.release();
      ByteBuf out = ctx.alloc().buffer();
      PgMessages.close(out, (byte) 'S', NOOP_STATEMENT);
      expects.add(Expect.CLOSE_RELAY);
      backendWrite(out);
      return;
    }
    expects.add(Expect.CLOSE_RELAY);
    backendWrite(msg);
  }

  /** A malformed message (a name without its terminator) ends the session, as a decoded one would. */
  private static void requireCString(ByteBuf msg, int from) {
    if (from > msg.writerIndex() || msg.indexOf(from, msg.writerIndex(), (byte) 0) < 0) {
      throw new IllegalArgumentException("string without terminator");
    }
  }

  private void backendWrite(ByteBuf msg) {
    backend.write(msg);
  }

  // ------------------------------------------------------------------ backend messages

  @Override
  public void message(ByteBuf frame) {
    message(frame, false);
  }

  /** A relayed run that ends with its ReadyForQuery is handled as that ReadyForQuery, relaying all of it. */
  @Override
  public void message(ByteBuf frame, boolean endsWithReady) {
    if (loop.inEventLoop()) {
      inBackendRead = true;
      backendMessage(frame, endsWithReady);
      return;
    }
    try {
      loop.execute(() -> backendMessage(frame, endsWithReady));
    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
      frame.release();
    }
  }

  @Override
  public void closed(Throwable cause) {
    onLoop(() -> backendClosed(cause));
  }

  /** Everything but the answers it tracks (ReadyForQuery, ParseComplete, errors…) is relayed as is. */
  @Override
  public boolean relaysRuns() {
    return true;
  }

  @Override
  public void writabilityChanged(boolean writable) {
    onLoop(() -> {
      if (state != State.CLOSED) {
        ctx.channel().config().setAutoRead(writable);
      }
    });
  }

  private void backendMessage(ByteBuf frame, boolean endsWithReady) {
    if (state == State.CLOSED || backend == null) {
      frame.release();
      return;
    }
    // a run with its ReadyForQuery: what the proxy tracks is the ReadyForQuery (the run's
    // messages are relayed without a look), so it is handled as one, relaying the whole slice
    byte type = endsWithReady ? PgMessages.READY_FOR_QUERY : frame.getByte(frame.readerIndex());
    if (state == State.PASSTHROUGH_AUTH) {
      passthroughAuthAnswer(type, frame);
      return;
    }
    if (swallowReady > 0) {
      setupAnswer(type, frame);
      return;
    }
    Req head = firstUnanswered();
    if (head != null) {
      head.bytesOut += frame.readableBytes();
    }
    switch (type) {
      case PgMessages.READY_FOR_QUERY -> readyForQuery(frame);
      case PgMessages.PARSE_COMPLETE -> answered(frame, Expect.PARSE_RELAY, Expect.PARSE_SWALLOW);
      case PgMessages.CLOSE_COMPLETE -> answered(frame, Expect.CLOSE_RELAY, Expect.CLOSE_SWALLOW);
      case PgMessages.ERROR_RESPONSE -> {
        if (head != null) {
          head.error = true;
        }
        relay(head != null && head.timedOut ? hintTimeoutError(frame, head) : frame, true);
      }
      case PgMessages.COPY_IN_RESPONSE -> {
        copyIn = true;
        relay(frame, true);
      }
      case PgMessages.COPY_BOTH_RESPONSE -> {
        pin("COPY BOTH");
        relay(frame, true);
      }
      case PgMessages.PARAMETER_STATUS -> {
        ByteBuf body = frame.duplicate().skipBytes(5);
        String name = PgMessages.readCString(body);
        String value = PgMessages.readCString(body);
        params.reported(name, value);
        if ("application_name".equals(name) && !value.equals(tenant.application())) {
          // Drivers that set the name after login (pgjdbc's SET application_name) are classified
          // by it from their next request on.
          tenant = tenant.withApplication(value);
          classification = null;
        }
        if (PgParams.REPORTED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
          backend.applied().put(name.toLowerCase(java.util.Locale.ROOT), value);
        }
        relay(frame, false);
      }
      case PgMessages.NOTIFICATION_RESPONSE -> relay(frame, true);
      default -> relay(frame, false);
    }
  }

  private Req firstUnanswered() {
    // runs for every backend message: the usual answers need no iterator
    Req head = inflight.peekFirst();
    if (head == null) {
      return current;
    }
    if (head.refusal == null) {
      return head;
    }
    for (Req r : inflight) {
      if (r.refusal == null) {
        return r;
      }
    }
    return current;
  }

  /** The answer to the start-up settings the proxy sent on a newly leased connection. */
  private void setupAnswer(byte type, ByteBuf frame) {
    if (type == PgMessages.ERROR_RESPONSE) {
      String error = PgErrors.describe(frame);
      frame.release();
      String st = error.substring(0, Math.min(5, error.length()));
      fatal(st.length() == 5 ? st : "08P01", "mproxy: cannot apply the session settings: " + error.substring(Math.min(7, error.length())));
      return;
    }
    boolean ready = type == PgMessages.READY_FOR_QUERY;
    frame.release();
    if (!ready) {
      return;
    }
    swallowReady--;
    if (swallowReady == 0 && !loginDone) {
      loginConnected();
    } else {
      pump();
    }
  }

  private void answered(ByteBuf frame, Expect relayKind, Expect swallowKind) {
    Expect e = expects.peek();
    while (e != null && e != relayKind && e != swallowKind && e != Expect.SYNC) {
      expects.poll();
      if (e == Expect.PARSE_RELAY || e == Expect.PARSE_SWALLOW) {
        // its answer never came here on its own (skipped by an error, or relayed in a run): the
        // names stay paired with their Parses
        forgetUnanswered(parsedNames.poll());
      }
      e = expects.peek();
    }
    if (e == relayKind || e == swallowKind) {
      expects.poll();
      if (relayKind == Expect.PARSE_RELAY) {
        parsedNames.poll();
      }
    }
    if (e == swallowKind) {
      frame.release();
    } else {
      relay(frame, false);
    }
  }

  /** A Parse of a named statement that no ParseComplete answered is not on the server. */
  private void forgetUnanswered(String name) {
    if (name != null && !name.isEmpty() && backend != null) {
      backend.forgetPrepared(name);
    }
  }

  private void readyForQuery(ByteBuf frame) {
    txStatus = frame.getByte(frame.writerIndex() - 1); // the last byte, also after a relayed run
    // Statements whose Parse was skipped by an error are not on the server.
    while (!expects.isEmpty()) {
      Expect e = expects.poll();
      if (e == Expect.SYNC) {
        break;
      }
      if (e == Expect.PARSE_RELAY || e == Expect.PARSE_SWALLOW) {
        forgetUnanswered(parsedNames.poll());
      }
    }
    Req done = !inflight.isEmpty() && inflight.peek().refusal == null ? inflight.poll() : null;
    lastActivityNanos = ReadBatch.nanoTime(listener.clock());
    if (txStatus == 'I') {
      writeInTransaction = false;
    }
    relay(frame, true);
    if (done != null) {
      if (done.hintTimer != null) {
        done.hintTimer.cancel();
        done.hintTimer = null;
      }
      done.ticket.complete(done.timedOut ? Outcome.TIMEOUT : done.error ? Outcome.ERROR : Outcome.OK,
          done.bytesIn, done.bytesOut, ReadBatch.nanoTime(listener.gateway().clock()));
      done.ticket = null;
      spareReq = done; // no timer holds it (cancelled above), nor any queue
    }
    if (inflight.isEmpty() && current == null) {
      cancelQueryTimer();
    }
    answerSynthetic();
    if (txStatus == 'I') {
      cancelIdleTxTimer();
    } else {
      armIdleTxTimer();
    }
    maybeRelease();
    pump();
  }

  /** Answers refused requests at the head of the line, in order with real answers. */
  private void answerSynthetic() {
    boolean wrote = false;
    while (!inflight.isEmpty() && inflight.peek().refusal != null) {
      Req r = inflight.poll();
      out.write(PgMessages.error(ctx.alloc(), "ERROR", sqlStateFor(r.refusal), r.refusal.message()));
      out.write(PgMessages.readyForQuery(ctx.alloc(), txStatus));
      wrote = true;
    }
    if (wrote) {
      flushClient();
    }
  }

  static String sqlStateFor(Refusal r) {
    return switch (r.reason()) {
      case RU_LIMIT -> "53400";
      case QUEUE_FULL -> r.detail() != null && r.detail().startsWith("query_wait_timeout") ? "57014" : "53000";
      case CODEL, RUNAWAY -> "53000";
      case CIRCUIT_OPEN, NO_BACKEND -> "57P03";
    };
  }

  /**
   * Writes a backend message to the client; flushes now, or once the messages that arrived with
   * it are written too: at the backend read's end when it runs on this loop (no task at all),
   * else from a task queued behind them.
   */
  private void relay(ByteBuf frame, boolean flushNow) {
    out.write(frame);
    if (flushNow) {
      flushClient();
      return;
    }
    if (flushPending) {
      return;
    }
    flushPending = true;
    if (!inBackendRead) {
      loop.execute(this::flushPending);
    }
  }

  private void flushPending() {
    if (flushPending) {
      flushClient();
    }
  }

  /** Hands everything written to the client so far to the kernel. */
  private void flushClient() {
    flushPending = false;
    out.flush();
  }

  /** Writes one message to the client after everything before it, and flushes. */
  private void writeAndFlush(ByteBuf msg) {
    out.write(msg);
    flushClient();
  }

  @Override
  public void readComplete() {
    if (loop.inEventLoop()) {
      inBackendRead = false;
      flushPending();
    }
  }

  private void backendClosed(Throwable cause) {
    if (state == State.CLOSED || backend == null) {
      return;
    }
    LOG.debug("client {}: backend connection lost: {}", ctx.channel().remoteAddress(), String.valueOf(cause));
    PooledConnection c = lease;
    lease = null;
    backend = null;
    if (c != null) {
      c.pool().release(c, false);
    }
    fatal("08006", "mproxy: the backend connection was lost; the session cannot continue");
  }

  // ------------------------------------------------------------------ cancel and timers

  /** A CancelRequest with this session's key arrived on another connection. */
  void cancelFromClient() {
    onLoop(this::cancelBackendQuery);
  }

  /** Cancels the backend's query when a ticket still running was asked to stop. */
  private void cancelRequested() {
    boolean wanted = current != null && current.ticket != null && current.ticket.cancelRequested()
        && !current.ticket.ended();
    for (Req r : inflight) {
      wanted |= r.ticket != null && r.ticket.cancelRequested() && !r.ticket.ended();
    }
    if (wanted) {
      cancelBackendQuery();
    }
  }

  private void cancelBackendQuery() {
    if (state == State.CLOSED || backend == null) {
      return;
    }
    PgBackend b = backend;
    Channel bch = b.context().channel();
    adapter.sendCancel(bch, b.pid(), b.secret());
  }

  /**
   * A hinted {@code timeout_ms}: when the request's deadline passes while the backend still runs
   * it, the backend is asked to cancel it and its error is answered as an mproxy timeout.
   */
  private void armHintDeadline(Req r) {
    long deadline = r.ticket.request().deadlineNanos();
    if (deadline == 0) {
      return;
    }
    r.hintTimer = scheduler.schedule(() -> {
      r.hintTimer = null;
      if (state == State.CLOSED || r.timedOut || (current != r && !inflight.contains(r))) {
        return;
      }
      if (firstUnanswered() != r) {
        armHintDeadline(r); // behind a pipelined request: cancel only when it is the one running
        return;
      }
      r.timedOut = true;
      listener.gateway().telemetry().hintTimeout(r.ticket.group());
      cancelBackendQuery();
    }, Math.max(TimeUnit.MILLISECONDS.toNanos(1), deadline - listener.clock().nanoTime()));
  }

  private ByteBuf hintTimeoutError(ByteBuf backendError, Req r) {
    backendError.release();
    return PgMessages.error(ctx.alloc(), "ERROR", "57014", "mproxy: canceling statement due to timeout_ms="
        + r.ticket.request().hints().timeoutMs() + " (group " + r.ticket.group() + ")");
  }

  /**
   * The query_wait_timeout timer ends with the wait: left armed, each request under contention
   * would keep a task (and its Request) in the event loop's timer queue for the whole timeout.
   */
  private void cancelWaitTimer() {
    if (waitTimer != null) {
      waitTimer.cancel();
      waitTimer = null;
    }
  }

  private void cancelQueryTimer() {
    if (queryTimer != null) {
      queryTimer.cancel();
      queryTimer = null;
    }
  }

  private void armIdleTxTimer() {
    long ms = options.idleTransactionTimeoutMs();
    if (ms <= 0 || idleTxTimer != null) {
      return;
    }
    long limit = TimeUnit.MILLISECONDS.toNanos(ms);
    long idle = listener.clock().nanoTime() - lastActivityNanos;
    idleTxTimer = scheduler.schedule(() -> {
      idleTxTimer = null;
      if (state != State.READY || txStatus == 'I') {
        return;
      }
      boolean busy = !inflight.isEmpty() || current != null || !pending.isEmpty();
      if (busy || listener.clock().nanoTime() - lastActivityNanos < limit) {
        armIdleTxTimer();
        return;
      }
      fatal("25P03", "mproxy: terminating connection due to idle-in-transaction timeout (" + ms + " ms)");
    }, Math.max(1, limit - idle));
  }

  private void cancelIdleTxTimer() {
    if (idleTxTimer != null) {
      idleTxTimer.cancel();
      idleTxTimer = null;
    }
  }

  // ------------------------------------------------------------------ endings

  private void protocolViolation(String message) {
    fatal("08P01", message);
  }

  private void fatal(String sqlState, String message) {
    if (state == State.CLOSED) {
      return;
    }
    out.writeGathered(); // what was relayed before goes out before the error
    ctx.writeAndFlush(PgMessages.error(ctx.alloc(), "FATAL", sqlState, message))
        .addListener(ChannelFutureListener.CLOSE);
    shutdown();
  }

  private void close() {
    ctx.close();
    shutdown();
  }

  /** Ends every request and gives the connection back; runs once. */
  private void shutdown() {
    if (state == State.CLOSED) {
      return;
    }
    boolean wasReady = state == State.READY || state == State.LOGIN;
    state = State.CLOSED;
    out.discard(); // the channel is closing: what was gathered and not written goes nowhere
    waitGeneration++;
    cancelWaitTimer();
    cancelQueryTimer();
    cancelIdleTxTimer();
    if (current != null && current.ticket != null) {
      current.ticket.complete(Outcome.ERROR, current.bytesIn, current.bytesOut);
    }
    current = null;
    for (Req r : inflight) {
      if (r.ticket != null) {
        r.ticket.complete(Outcome.ERROR, r.bytesIn, r.bytesOut);
      }
    }
    inflight.clear();
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
    statements.clear();
    lastBound = null;
    if (passthroughTarget != null && backend != null) {
      backend.idle();
      backend.context().channel().close();
      backend = null;
    }
    if (lease != null) {
      boolean clean = txStatus == 'I' && expects.isEmpty() && swallowReady == 0 && !copyIn;
      if (clean && sessionMode) {
        resetAndRelease();
      } else {
        releaseLease(clean && pinned == null);
      }
    }
    if (wasReady || pid != 0) {
      adapter.unregister(pid, this);
    }
    if (userCounted) {
      adapter.uncountUser(listener.config().name(), user);
      userCounted = false;
    }
  }

  /** Session mode: the client's session state is wiped with server_reset_query before reuse. */
  private void resetAndRelease() {
    PooledConnection c = lease;
    PgBackend b = backend;
    lease = null;
    backend = null;
    String reset = clusterState.options().serverResetQuery();
    if (reset == null || reset.isBlank()) {
      b.idle();
      c.pool().release(c, true);
      return;
    }
    b.sink(new PgBackendSink() {
      private boolean failed;

      @Override
      public void message(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        frame.release();
        if (type == PgMessages.ERROR_RESPONSE) {
          failed = true;
        } else if (type == PgMessages.READY_FOR_QUERY) {
          b.idle();
          b.applied().clear();
          b.clearPrepared();
          c.pool().release(c, !failed);
        }
      }

      @Override
      public void closed(Throwable cause) {
        c.pool().release(c, false);
      }
    });
    Channel ch = b.context().channel();
    ch.writeAndFlush(PgMessages.query(ch.alloc(), reset));
  }

  // ------------------------------------------------------------------ helpers

  private PgFrameDecoder decoder() {
    return ctx.pipeline().get(PgFrameDecoder.class);
  }

  private void onLoop(Runnable r) {
    if (loop.inEventLoop()) {
      r.run();
    } else {
      loop.execute(r);
    }
  }
}

package io.mproxy.protocol.mongo;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PoolException;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.time.EventLoopScheduler;
import io.mproxy.core.time.ReadBatch;
import io.mproxy.protocol.mongo.codec.BsonScanner;
import io.mproxy.protocol.mongo.codec.MongoCodecException;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.protocol.mongo.codec.OpCode;
import io.mproxy.protocol.mongo.codec.OpMsg;
import io.mproxy.protocol.mongo.codec.OpQuery;
import io.mproxy.protocol.mongo.command.MongoCommand;
import io.mproxy.protocol.mongo.command.MongoCommands;
import io.mproxy.protocol.mongo.command.MongoFingerprint;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MongoDB client connection. Messages are taken one at a time, in order (a driver has at
 * most one operation in flight per connection; anything it pipelines waits its turn):
 * <ul>
 *   <li>the proxy answers the handshake ({@code hello}/{@code isMaster}, over OP_MSG or the
 *       legacy OP_QUERY), authentication ({@code saslStart}/{@code saslContinue}), {@code ping}
 *       and {@code logout} itself;</li>
 *   <li>every other command passes the core chain (classify → admit), is routed (cursor owner,
 *       transaction owner, a secondary for secondary reads, else the balancer), leases a backend
 *       connection exclusively for that one operation, and its reply (or exhaust stream of
 *       replies) goes back untouched but for a stripped checksum; then the lease ends.</li>
 * </ul>
 * Malformed input (bad lengths, bad BSON, unknown opcodes, OP_COMPRESSED that was never
 * negotiated, oversized messages) gets one error reply and the connection is closed.
 * All state is confined to the client's event loop.
 */
final class MongoSession extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(MongoSession.class);
  private static final AtomicInteger CONNECTION_IDS = new AtomicInteger();
  private static final int INBOX_HIGH = 16;
  private static final int INBOX_LOW = 4;
  private static final int MAX_BSON_DEPTH = 100;
  /** Open cursors remembered per connection for cleanup; older ones are left to the server's timeout. */
  static final int MAX_OWNED_CURSORS = 1024;

  private final ListenerContext listener;
  private final int connectionId = CONNECTION_IDS.incrementAndGet();
  private final ArrayDeque<MongoFrame> inbox = new ArrayDeque<>();
  private final Handshake handshake;
  private final ClientAuth auth;
  private boolean handshakeReported;
  /** Cursors this connection opened or continued, by id, with their namespace ({@code db.coll}). */
  private final LinkedHashMap<Long, String> ownedCursors = new LinkedHashMap<>(16, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, String> eldest) {
      return size() > MAX_OWNED_CURSORS;
    }
  };
  private ChannelHandlerContext ctx;
  private EventLoopScheduler scheduler;
  /** The listener's {@code query_timeout_ms} when this client connected (0: none). */
  private io.mproxy.core.request.QueryTimeout queryTimeout = io.mproxy.core.request.QueryTimeout.NONE;

  private boolean busy;
  /** The forwarded operation in flight, if any (at most one at a time). */
  private Operation current;
  /** Admission's and the pool's answers for {@link #current}: one object per connection, not per operation. */
  private final Callbacks callbacks = new Callbacks();
  /**
   * The one scanner this connection reads its commands and their replies with, re-aimed at each
   * message (everything here runs on the client's loop, one message at a time).
   */
  private final BsonScanner scanner = new BsonScanner();
  /** A runaway rule's cancel hook for {@link #current} (from core's tick thread: hops to the loop). */
  private final Runnable cancelHook = () -> ctx.executor().execute(this::cancelCurrentByRule);
  private boolean draining;
  private boolean closing;
  private boolean closed;

  private String appName;
  private TenantIdentity tenant;
  private String tenantDb;
  private Classification classification;
  private long classifiedGeneration = -1;

  MongoSession(ListenerContext listener) {
    this.listener = listener;
    this.handshake = new Handshake(listener, connectionId);
    this.auth = new ClientAuth(listener, () -> ctx == null ? null : ctx.channel().remoteAddress());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
    this.scheduler = new EventLoopScheduler(context.executor());
    this.queryTimeout = io.mproxy.core.request.QueryTimeout.of(listener.config());
  }

  // ---------------------------------------------------------------- inbound

  /**
   * One read's messages take one clock reading (see {@link ReadBatch}): the request's arrival,
   * its admission, the pool lease and the dispatch of a command that goes out at once.
   */
  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    ReadBatch.begin();
    try {
      read(context, msg);
    } finally {
      ReadBatch.end();
    }
  }

  private void read(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof MongoFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (closing || closed) {
      frame.release();
      return;
    }
    if (!handshakeReported) {
      // MongoDB's handshake is the first whole message (the driver's hello): monitoring
      // connections never authenticate, so authentication cannot be what stops the timer
      handshakeReported = true;
      listener.handshakeCompleted(context.channel());
    }
    inbox.add(frame);
    if (inbox.size() >= INBOX_HIGH) {
      context.channel().config().setAutoRead(false);
    }
    drain();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      MongoFrame next;
      while (!busy && !closing && (next = inbox.poll()) != null) {
        handle(next);
      }
    } finally {
      draining = false;
    }
    if (!closing && !closed && inbox.size() <= INBOX_LOW && !ctx.channel().config().isAutoRead()
        && ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  /** Takes ownership of {@code frame}. */
  private void handle(MongoFrame frame) {
    switch (frame.opCode()) {
      case OpCode.OP_MSG:
        onMsg(frame);
        return;
      case OpCode.OP_QUERY:
        onQuery(frame);
        return;
      case OpCode.OP_COMPRESSED:
        frame.release();
        protocolError(frame.requestId(), "OP_COMPRESSED was never negotiated (the proxy offers no compressors)");
        return;
      default:
        frame.release();
        protocolError(frame.requestId(), OpCode.name(frame.opCode())
            + " is not supported (drivers for MongoDB 3.6+ use OP_MSG)");
    }
  }

  private void onQuery(MongoFrame frame) {
    int requestId = frame.requestId();
    BsonDocument query;
    String name;
    boolean isCommand;
    try {
      OpQuery q = OpQuery.parse(frame);
      BsonScanner.validate(frame.content(), q.queryStart(), q.queryStart() + q.queryLength(), MAX_BSON_DEPTH);
      isCommand = q.isCommand();
      query = Handshake.decode(frame.content(), q.queryStart(), q.queryLength());
      if (query.size() > 0 && query.getFirstKey().equals("$query") && query.get("$query").isDocument()) {
        query = query.getDocument("$query");
      }
      name = query.isEmpty() ? "" : query.getFirstKey();
    } catch (MongoCodecException e) {
      protocolError(requestId, e.getMessage());
      return;
    } finally {
      frame.release();
    }
    if (isCommand && MongoCommands.isHandshake(name)) {
      rememberClient(query);
      ctx.writeAndFlush(MongoReplies.opReply(ctx.alloc(), requestId, 0,
          handshake.reply(query, auth, !name.equals("hello"))));
      return;
    }
    BsonDocument err = new BsonDocument("$err", new org.bson.BsonString(
        "mproxy: OP_QUERY is accepted only for the hello/isMaster handshake; use OP_MSG"))
        .append("code", new BsonInt32(MongoErrors.UNSUPPORTED_OP_QUERY))
        .append("ok", new BsonInt32(0));
    ctx.writeAndFlush(MongoReplies.opReply(ctx.alloc(), requestId, MongoReplies.QUERY_FAILURE, err));
  }

  private void onMsg(MongoFrame frame) {
    OpMsg msg;
    MongoCommand cmd;
    try {
      msg = OpMsg.parse(frame);
      BsonScanner body = scanner.reset(frame.content(), msg.bodyStart(), msg.bodyStart() + msg.bodyLength());
      cmd = MongoCommand.scan(frame, msg, body, MAX_BSON_DEPTH);
    } catch (MongoCodecException e) {
      frame.release();
      protocolError(frame.requestId(), e.getMessage());
      return;
    }
    String name = cmd.name();
    boolean noReply = msg.moreToCome();
    if (MongoCommands.isHandshake(name)) {
      BsonDocument body = Handshake.decode(frame.content(), msg.bodyStart(), msg.bodyLength());
      frame.release();
      rememberClient(body);
      replyLocal(frame.requestId(), noReply, handshake.reply(body, auth, !name.equals("hello")));
      return;
    }
    switch (name) {
      case "saslStart":
      case "saslContinue": {
        BsonDocument body = Handshake.decode(frame.content(), msg.bodyStart(), msg.bodyLength());
        frame.release();
        BsonDocument answer = name.equals("saslStart") ? auth.saslStart(body) : auth.saslContinue(body);
        if (auth.authenticated()) {
          identityChanged();
        }
        replyLocal(frame.requestId(), noReply, answer);
        return;
      }
      case "ping":
        frame.release();
        replyLocal(frame.requestId(), noReply, new BsonDocument("ok", new BsonInt32(1)));
        return;
      case "logout":
        frame.release();
        auth.logout();
        identityChanged();
        replyLocal(frame.requestId(), noReply, new BsonDocument("ok", new BsonInt32(1)));
        return;
      default:
        break;
    }
    if (!auth.authenticated() && !MongoCommands.allowedBeforeAuth(name)) {
      frame.release();
      replyLocal(frame.requestId(), noReply, MongoErrors.unauthorized(name));
      return;
    }
    forward(frame, msg, cmd);
  }

  private void rememberClient(BsonDocument hello) {
    String app = Handshake.appName(hello);
    if (app != null && appName == null) {
      appName = app;
      identityChanged();
    }
  }

  // ---------------------------------------------------------------- forwarding

  private void forward(MongoFrame frame, OpMsg msg, MongoCommand cmd) {
    Request request = new Request(identity(cmd.database()), MongoCommands.kind(cmd), cmd.name(),
        MongoFingerprint.of(cmd), frame.size(), ReadBatch.nanoTime(listener.clock()), true)
        .hints(io.mproxy.core.hint.HintParser.fromDirective(cmd.comment(), true));
    Operation op = new Operation(frame, msg, cmd);
    busy = true;
    current = op;
    Cluster cluster = listener.cluster();
    listener.gateway().admit(request, classification(), listener.origin(), cluster.weights(), scheduler,
        callbacks, ReadBatch.nanoTime(listener.gateway().clock()));
  }

  /**
   * Admission's answer and the pool's lease for the operation in flight. A connection has at most
   * one operation at a time, and it stays {@link #current} until both have answered (it ends only
   * after them), so one object per connection serves every operation.
   */
  private final class Callbacks implements AdmissionCallback, BackendPool.Lease {
    @Override
    public void admitted(Ticket ticket) {
      current.admitted(ticket);
    }

    @Override
    public void refused(Refusal refusal) {
      current.refused(refusal);
    }

    @Override
    public void granted(PooledConnection connection) {
      current.dispatch(connection);
    }

    @Override
    public void failed(Throwable cause) {
      current.fail(cause instanceof PoolException pe ? pe.reason() : "connection failed");
    }
  }

  /** A runaway rule asked to cancel a request of this connection: the one in flight, if still so. */
  private void cancelCurrentByRule() {
    Operation op = current;
    if (op != null && op.ticket != null && op.ticket.cancelRequested()) {
      op.cancelByRule();
    }
  }

  /** One forwarded command from admission to its last reply. Lives on the client's loop. */
  private final class Operation implements ReplySink {
    private final MongoFrame frame;
    private final OpMsg msg;
    private final MongoCommand cmd;
    private final int requestId;
    private final boolean noReply;
    private Ticket ticket;
    private PooledConnection conn;
    private long bytesOut;
    private boolean repliedAny;
    private boolean ended;
    /** The hinted or listener deadline on the injected clock, from dispatch; 0 for none. */
    private long deadline;
    private io.mproxy.core.time.Scheduler.Cancellable deadlineTimer;

    Operation(MongoFrame frame, OpMsg msg, MongoCommand cmd) {
      this.frame = frame;
      this.msg = msg;
      this.cmd = cmd;
      this.requestId = frame.requestId();
      this.noReply = msg.moreToCome();
    }

    void refused(Refusal refusal) {
      frame.release();
      replyLocal(requestId, noReply, MongoErrors.refusal(refusal));
      opDone();
    }

    void admitted(Ticket t) {
      this.ticket = t;
      if (closed) {
        frame.release();
        t.complete(Outcome.ERROR, 0);
        opDone();
        return;
      }
      Backend backend = route(cmd, t.request());
      if (backend == null && listener.cluster().circuitsOpen()) {
        Refusal refusal = t.refuse(io.mproxy.core.request.ShedReason.CIRCUIT_OPEN,
            listener.cluster().circuitRetryAfterMs(), "every backend's circuit is open");
        if (refusal != null) {
          refused(refusal);
          return;
        }
      }
      if (backend == null) {
        fail("no backend of cluster " + listener.cluster().name() + " is available");
        return;
      }
      BackendPool pool = listener.cluster().pool(backend, Cluster.DEFAULT_VARIANT);
      try {
        pool.acquire(true, (EventLoop) ctx.executor(), callbacks);
      } catch (RuntimeException e) {
        LOG.warn("session {}: leasing a backend connection failed", connectionId, e);
        fail("internal error");
      }
    }

    void fail(String why) {
      frame.release();
      ticket.complete(Outcome.ERROR, 0);
      replyLocal(requestId, noReply, MongoErrors.backendUnavailable(ticket.group(), why));
      opDone();
    }

    void dispatch(PooledConnection connection) {
      if (closed) {
        frame.release();
        connection.pool().release(connection, true);
        ticket.complete(Outcome.ERROR, 0);
        opDone();
        return;
      }
      conn = connection;
      // an awaitData getMore waits its own maxTimeMS by design: the listener's timeout comes on top
      deadline = queryTimeout.deadlineNanos(ticket.request(), listener.clock(),
          cmd.name().equals("getMore") ? cmd.maxTimeMsValue() : 0);
      long maxTimeMs = hintedMaxTimeMs();
      ByteBuf out = maxTimeMs > 0
          ? OpMsg.withBodyField(connection.channel().alloc(), frame, msg, "maxTimeMS", maxTimeMs)
          : msg.checksumPresent()
              ? OpMsg.withoutChecksum(connection.channel().alloc(), frame)
              : frame.content().retain();
      frame.release();
      if (noReply) {
        // fire-and-forget for the client, acknowledged towards the backend: the lease then ends
        // when the backend is done with it, and servers without moreToCome support still work
        out.setIntLE(out.readerIndex() + MongoFrame.HEADER_BYTES,
            out.getIntLE(out.readerIndex() + MongoFrame.HEADER_BYTES) & ~OpMsg.MORE_TO_COME);
      }
      if (cmd.startTransaction() && cmd.lsid() != null) {
        connector().directory().transactionStarted(cmd.lsid(), connection.backend());
      }
      ticket.dispatched(connection.backend(), ReadBatch.nanoTime(listener.gateway().clock()));
      armHintDeadline();
      ticket.onCancel(cancelHook);
      MongoBackendHandler handler = connection.attachment();
      handler.send(out, true, this);
    }

    /**
     * A hinted {@code timeout_ms} (or the listener's {@code query_timeout_ms}) as the
     * {@code maxTimeMS} the server itself enforces (what is left of it at dispatch), for a read
     * without the client's own; 0 when none is added.
     */
    private long hintedMaxTimeMs() {
      if (deadline == 0 || !cmd.acceptsMaxTimeMs()) {
        return 0;
      }
      long left = deadline - listener.clock().nanoTime();
      return Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left + 999_999));
    }

    /**
     * A runaway {@code cancel} rule fired: the way a client stops an operation on mongod without
     * killOp (which the proxy cannot test here), the backend connection running it is closed, and
     * mongod (4.2+) kills an operation whose client disconnected. The client gets Interrupted
     * (11601), the error killOp produces, and its connection stays usable. An exhaust stream
     * already half sent is left to finish: it could not be answered in order.
     */
    void cancelByRule() {
      if (ended || repliedAny || closed || current != this) {
        return;
      }
      LOG.debug("session {}: runaway rule cancels {} on {}", connectionId, cmd.name(), conn.backend());
      replyLocal(requestId, noReply, MongoErrors.interrupted(ticket.group()));
      end(Outcome.ERROR, false);
    }

    @Override
    public void reply(MongoFrame reply, boolean last) {
      if (ctx.executor().inEventLoop()) {
        onReply(reply, last);
      } else {
        ctx.executor().execute(() -> {
          ReadBatch.begin();
          try {
            onReply(reply, last);
          } finally {
            ReadBatch.end();
          }
        });
      }
    }

    @Override
    public void failed(Throwable cause) {
      ctx.executor().execute(() -> onFailed(cause));
    }

    private void onReply(MongoFrame reply, boolean last) {
      if (ended) {
        ReferenceCountUtil.release(reply);
        return;
      }
      boolean ok = true;
      if (reply != null) {
        bytesOut += reply.size();
        if (last) {
          ReplyScan scan = ReplyScan.of(reply, scanner);
          ok = scan.ok();
          track(scan);
        }
        if (closed || noReply) {
          reply.release();
        } else {
          repliedAny = true;
          // no promise per reply: a failed write reaches exceptionCaught, which closes the client
          ctx.writeAndFlush(toClient(reply), ctx.voidPromise());
        }
      }
      if (last) {
        end(ok ? Outcome.OK : Outcome.ERROR, true);
      }
    }

    private void onFailed(Throwable cause) {
      if (ended) {
        return;
      }
      LOG.debug("session {}: backend connection failed during {}: {}", connectionId, cmd.name(), cause.toString());
      if (repliedAny && !closed) {
        // an exhaust stream broke half-way: the client cannot be told in order, close it
        ctx.close();
      } else {
        replyLocal(requestId, noReply, MongoErrors.backendUnavailable(ticket.group(),
            "connection to the backend lost"));
      }
      end(Outcome.ERROR, false);
    }

    /**
     * A hinted {@code timeout_ms} or the listener's {@code query_timeout_ms}: at the deadline the
     * client gets MaxTimeMSExpired (50) and the backend connection is closed, which ends the
     * operation there as mongos does for a client that went away (and frees a connection to a
     * backend that stopped answering); a reply that arrives later is dropped.
     */
    private void armHintDeadline() {
      if (deadline == 0) {
        return;
      }
      deadlineTimer = scheduler.schedule(() -> {
        deadlineTimer = null;
        if (ended || repliedAny || closed) {
          return;
        }
        if (io.mproxy.core.request.QueryTimeout.hinted(ticket.request())) {
          listener.gateway().telemetry().hintTimeout(ticket.group());
        }
        replyLocal(requestId, noReply, MongoReplies.error(MongoErrors.TIME_LIMIT, MongoErrors.TIME_LIMIT_NAME,
            "mproxy: timeout group=" + ticket.group() + " " + queryTimeout.setting(ticket.request())
                + " (operation exceeded time limit)"));
        end(Outcome.TIMEOUT, false);
      }, Math.max(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1), deadline - listener.clock().nanoTime()));
    }

    private void track(ReplyScan scan) {
      RoutingDirectory d = connector().directory();
      String name = cmd.name();
      if (MongoCommands.createsCursor(name) && scan.hasCursor() && scan.cursorId() != 0) {
        d.cursorOpened(scan.cursorId(), conn.backend(), connectionId);
        ownedCursors.put(scan.cursorId(), namespace(scan));
      } else if (name.equals("getMore") && scan.hasCursor() && scan.cursorId() == 0) {
        d.cursorClosed(cmd.cursorId());
        ownedCursors.remove(cmd.cursorId());
      } else if (name.equals("getMore") && scan.hasCursor() && scan.ok()) {
        if (d.cursorUsedBy(scan.cursorId(), conn.backend(), connectionId)) {
          ownedCursors.put(scan.cursorId(), namespace(scan));
        }
      } else if (name.equals("killCursors") && cmd.cursorId() != 0) {
        d.cursorClosed(cmd.cursorId());
        ownedCursors.remove(cmd.cursorId());
      }
    }

    /** {@code db.collection} of the cursor: from the reply, else from the command. */
    private String namespace(ReplyScan scan) {
      if (scan.namespace() != null) {
        return scan.namespace();
      }
      return cmd.database() + "." + cmd.collection();
    }

    /**
     * The client went away while its operation runs on a backend: close that backend connection
     * (as mongos kills the operation), so the lease ends now instead of whenever the backend
     * answers; the connection's failure then ends the operation.
     */
    void abandon() {
      if (!ended && conn != null) {
        conn.channel().close();
      }
    }

    private void end(Outcome outcome, boolean reusable) {
      ended = true;
      if (deadlineTimer != null) {
        deadlineTimer.cancel();
        deadlineTimer = null;
      }
      conn.pool().release(conn, reusable);
      ticket.complete(outcome, ticket.request().bytesIn(), bytesOut, ReadBatch.nanoTime(listener.gateway().clock()));
      opDone();
    }
  }

  /** A backend reply as the client gets it: the same bytes, minus a checksum if the backend added one. */
  private ByteBuf toClient(MongoFrame reply) {
    try {
      if (reply.opCode() == OpCode.OP_MSG && reply.size() >= MongoFrame.HEADER_BYTES + 4
          && (OpMsg.flagsOf(reply.content()) & OpMsg.CHECKSUM_PRESENT) != 0) {
        return OpMsg.withoutChecksum(ctx.alloc(), reply);
      }
      return reply.content().retain();
    } finally {
      reply.release();
    }
  }

  private Backend route(MongoCommand cmd, Request request) {
    RoutingDirectory d = connector().directory();
    String name = cmd.name();
    if ((name.equals("getMore") || name.equals("killCursors")) && cmd.cursorId() != 0) {
      Backend owner = d.cursorOwner(cmd.cursorId());
      if (owner != null) {
        return owner;
      }
    }
    if (cmd.inTransaction() && !cmd.startTransaction()) {
      Backend owner = d.transactionOwner(cmd.lsid());
      if (owner != null) {
        return owner;
      }
    }
    if (request.kind() == RequestKind.READ && cmd.secondaryOk() && !cmd.inTransaction()) {
      Backend replica = leastLoadedReplica();
      if (replica != null) {
        return replica;
      }
    }
    return listener.cluster().select(request);
  }

  private Backend leastLoadedReplica() {
    Backend best = null;
    for (Backend b : listener.cluster().backends()) {
      if (b.config().role() != BackendConfig.Role.REPLICA || !b.tryable()) {
        continue;
      }
      if (best == null || b.inflight() < best.inflight()) {
        best = b;
      }
    }
    return best;
  }

  private void opDone() {
    busy = false;
    current = null;
    if (!draining) {
      drain();
    }
  }

  // ---------------------------------------------------------------- replies and errors

  private void replyLocal(int requestId, boolean noReply, BsonDocument body) {
    if (noReply || closed) {
      return;
    }
    ctx.writeAndFlush(MongoReplies.reply(ctx.alloc(), requestId, body));
  }

  private void protocolError(int requestId, String message) {
    LOG.debug("session {}: protocol error: {}", connectionId, message);
    closing = true;
    ctx.channel().config().setAutoRead(false);
    inbox.forEach(MongoFrame::release);
    inbox.clear();
    if (closed) {
      return;
    }
    ctx.writeAndFlush(MongoReplies.reply(ctx.alloc(), requestId, MongoErrors.protocol(message)))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    if (cause instanceof DecoderException) {
      Throwable root = cause.getCause() != null ? cause.getCause() : cause;
      if (cause instanceof MongoCodecException mce) {
        root = mce;
      }
      int requestId = root instanceof MongoCodecException mce ? mce.requestId() : 0;
      protocolError(requestId, String.valueOf(root.getMessage()));
      return;
    }
    if (cause instanceof java.io.IOException) {
      // the client's connection failed (reset, broken pipe), on a read or on a reply's write
      LOG.debug("session {}: connection failed: {}", connectionId, cause.toString());
      context.close();
      return;
    }
    LOG.warn("session {}: closing after an unexpected error", connectionId, cause);
    context.close();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext context) {
    if (!context.channel().isWritable()) {
      context.channel().config().setAutoRead(false);
    } else if (!busy && !closing) {
      drain();
    }
    context.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    closed = true;
    inbox.forEach(MongoFrame::release);
    inbox.clear();
    Operation op = current;
    if (op != null) {
      op.abandon();
    }
    if (!ownedCursors.isEmpty()) {
      EventLoop loop = (EventLoop) context.executor();
      loop.execute(this::killOrphanedCursors);
    }
    context.fireChannelInactive();
  }

  /**
   * The client is gone: kill the cursors it still owns (opened or last continued here, neither
   * exhausted nor killed), one {@code killCursors} per backend and namespace. Runs as its own task
   * after the close, so the close itself does no more than schedule it.
   */
  private void killOrphanedCursors() {
    RoutingDirectory d = connector().directory();
    Map<Backend, Map<String, List<Long>>> orphans = new HashMap<>();
    for (Map.Entry<Long, String> e : ownedCursors.entrySet()) {
      Backend owner = d.releaseOrphan(e.getKey(), connectionId);
      if (owner != null) {
        orphans.computeIfAbsent(owner, b -> new HashMap<>())
            .computeIfAbsent(e.getValue(), ns -> new ArrayList<>()).add(e.getKey());
      }
    }
    ownedCursors.clear();
    Cluster cluster = listener.cluster();
    EventLoop loop = (EventLoop) ctx.executor();
    orphans.forEach((backend, byNs) -> {
      BackendPool pool = cluster.pool(backend, Cluster.DEFAULT_VARIANT);
      if (pool == null) {
        return;
      }
      byNs.forEach((ns, ids) -> connector().reaper().kill(pool, loop, ns, ids));
    });
  }

  // ---------------------------------------------------------------- identity

  private TenantIdentity identity(String db) {
    TenantIdentity t = tenant;
    if (t == null || !java.util.Objects.equals(db, tenantDb)) {
      t = new TenantIdentity(listener.config().name(), auth.user(), db, appName);
      tenant = t;
      tenantDb = db;
      classification = null;
    }
    return t;
  }

  private void identityChanged() {
    tenant = null;
    classification = null;
  }

  private Classification classification() {
    long gen = listener.gateway().generation();
    if (classification == null || classifiedGeneration != gen) {
      classification = listener.gateway().classify(tenant);
      classifiedGeneration = gen;
    }
    return classification;
  }

  private MongoBackendConnector connector() {
    return (MongoBackendConnector) listener.cluster().connector();
  }
}

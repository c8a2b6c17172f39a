package io.mproxy.protocol.cassandra;

import io.mproxy.core.wire.TickFlusher;
import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PoolException;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.time.EventLoopScheduler;
import io.mproxy.core.time.Scheduler;
import io.mproxy.protocol.cassandra.codec.CqlCodecException;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFrameEncoder;
import io.mproxy.protocol.cassandra.codec.CqlFraming;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CQL client connection.
 *
 * <p>Connection state machine: {@link State#STARTING} (OPTIONS, STARTUP) →
 * {@link State#AUTHENTICATING} (AUTH_RESPONSE with SASL PLAIN, checked against the listener's
 * users; only when the listener terminates auth) → {@link State#READY}. In v5 both directions
 * switch to segments right after the answer to STARTUP, as the protocol says.
 *
 * <p>Requests: every QUERY, PREPARE, EXECUTE and BATCH is one core {@link Request}: classify,
 * admit (a refusal is an ERROR Overloaded whose message starts {@code mproxy:}), pick a backend,
 * take a shared connection of the client's protocol version and keyspace (see
 * {@link CqlVariant}), and send it there on a free stream id of that connection. The response
 * goes back on the client's own stream id. CQL requests are independent (answers may come in any
 * order), so a client's requests are admitted and dispatched concurrently; the proxy stops
 * reading a client with 32768 requests or 64 MiB of request frames in flight. The proxy also keeps what it must: the keyspace of
 * {@code USE} (from the backend's Set_keyspace answer), the prepared statements it saw
 * (re-prepared transparently on UNPREPARED, then the request is retried once), and it rewrites
 * the topology tables (see {@link TopologyRewrite}). REGISTER is answered READY and no event is
 * ever forwarded. All state is confined to the client's event loop.
 */
final class CqlSession extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(CqlSession.class);
  private static final AtomicLong IDS = new AtomicLong();
  /** Stop reading the client at this many requests in flight (its stream ids allow 32768). */
  private static final int IN_FLIGHT_HIGH = 32_768;
  private static final int IN_FLIGHT_LOW = 16_384;
  /** Stop reading the client while its requests in flight hold this many bytes (kept for a retry). */
  private static final long IN_FLIGHT_BYTES_HIGH = 64L * 1024 * 1024;
  private static final long IN_FLIGHT_BYTES_LOW = IN_FLIGHT_BYTES_HIGH / 2;

  enum State { STARTING, AUTHENTICATING, READY }

  private final ListenerContext listener;
  private final long id = IDS.incrementAndGet();
  private ChannelHandlerContext ctx;
  private EventLoopScheduler scheduler;
  /** The listener's {@code query_timeout_ms} when this client connected (0: none). */
  private io.mproxy.core.request.QueryTimeout queryTimeout = io.mproxy.core.request.QueryTimeout.NONE;

  private State state = State.STARTING;
  private int version;
  private String user;
  private String application;
  private String keyspace;
  private TenantIdentity tenant;
  private Classification classification;
  private long classifiedGeneration = -1;

  private int inFlight;
  private long inFlightBytes;
  private boolean closed;
  private boolean closing;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushNow;

  CqlSession(ListenerContext listener) {
    this.listener = listener;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
    this.scheduler = new EventLoopScheduler(context.executor());
    this.queryTimeout = io.mproxy.core.request.QueryTimeout.of(listener.config());
  }

  // ---------------------------------------------------------------- inbound

  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof CqlFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (closed || closing) {
      frame.release();
      return;
    }
    if (version == 0) {
      version = frame.version();
    }
    switch (frame.opcode()) {
      case CqlOpcode.OPTIONS -> {
        frame.release();
        write(CqlMessages.supported(ctx.alloc(), version, frame.stream(), connector().cqlVersion(),
            CassandraProtocolAdapter.offersLz4(listener.config())));
      }
      case CqlOpcode.STARTUP -> startup(frame);
      case CqlOpcode.AUTH_RESPONSE -> authResponse(frame);
      case CqlOpcode.REGISTER -> {
        frame.release();
        if (state != State.READY) {
          unexpected(frame);
        } else {
          write(CqlMessages.ready(version, frame.stream()));
        }
      }
      case CqlOpcode.QUERY, CqlOpcode.PREPARE, CqlOpcode.EXECUTE, CqlOpcode.BATCH -> {
        if (state != State.READY) {
          frame.release();
          unexpected(frame);
        } else {
          statement(frame);
        }
      }
      default -> {
        frame.release();
        unexpected(frame);
      }
    }
  }

  private void unexpected(CqlFrame frame) {
    String expecting = switch (state) {
      case STARTING -> "expecting STARTUP or OPTIONS";
      case AUTHENTICATING -> "expecting AUTH_RESPONSE";
      case READY -> "the connection is already started";
    };
    write(CqlMessages.error(ctx.alloc(), version, frame.stream(), CqlMessages.PROTOCOL_ERROR,
        "Unexpected message " + CqlOpcode.name(frame.opcode()) + ", " + expecting));
  }

  // ---------------------------------------------------------------- start-up and auth

  private void startup(CqlFrame frame) {
    int stream = frame.stream();
    Map<String, String> options;
    try {
      if (state != State.STARTING) {
        unexpected(frame);
        return;
      }
      options = CqlWire.readStringMap(frame.body().duplicate());
    } catch (RuntimeException e) {
      protocolError(stream, "malformed STARTUP: " + e.getMessage());
      return;
    } finally {
      frame.release();
    }
    String compression = options.get("COMPRESSION");
    boolean lz4 = false;
    if (compression != null && !compression.isEmpty()) {
      if (!CqlMessages.LZ4.equalsIgnoreCase(compression) || !CassandraProtocolAdapter.offersLz4(listener.config())) {
        protocolError(stream, "Unknown compression algorithm: " + compression + " (mproxy offers "
            + (CassandraProtocolAdapter.offersLz4(listener.config()) ? "lz4 only" : "no compression on this listener")
            + ")");
        return;
      }
      lz4 = true;
    }
    application = options.get("APPLICATION_NAME");
    if (listener.config().auth().terminates()) {
      state = State.AUTHENTICATING;
      write(CqlMessages.authenticate(ctx.alloc(), version, stream));
    } else {
      state = State.READY;
      listener.handshakeCompleted(ctx.channel());
      write(CqlMessages.ready(version, stream));
    }
    identityChanged();
    // the answer to STARTUP travels as it is; everything after it compressed (v4 bodies or v5 segments)
    CqlFraming.afterStartup(ctx.pipeline(), version, lz4);
  }

  private void authResponse(CqlFrame frame) {
    int stream = frame.stream();
    byte[] token;
    try {
      if (state != State.AUTHENTICATING) {
        unexpected(frame);
        return;
      }
      token = CqlWire.readBytes(frame.body().duplicate());
    } catch (RuntimeException e) {
      protocolError(stream, "malformed AUTH_RESPONSE: " + e.getMessage());
      return;
    } finally {
      frame.release();
    }
    java.util.Optional<String> blocked = listener.authFailures().refusal(ctx.channel().remoteAddress());
    if (blocked.isPresent()) {
      write(CqlMessages.error(ctx.alloc(), version, stream, CqlMessages.BAD_CREDENTIALS, blocked.get()));
      return;
    }
    String[] credentials = plain(token);
    String name = credentials == null ? "" : credentials[0];
    if (credentials == null || !passwordMatches(name, credentials[1])) {
      listener.authFailures().failed(ctx.channel().remoteAddress());
      write(CqlMessages.error(ctx.alloc(), version, stream, CqlMessages.BAD_CREDENTIALS,
          "Provided username " + name + " and/or password are incorrect"));
      return;
    }
    user = name;
    state = State.READY;
    listener.handshakeCompleted(ctx.channel());
    identityChanged();
    write(CqlMessages.authSuccess(ctx.alloc(), version, stream));
  }

  /** SASL PLAIN: [authzid] NUL authcid NUL password; null when malformed. */
  static String[] plain(byte[] token) {
    if (token == null) {
      return null;
    }
    int second = -1;
    int first = -1;
    for (int i = token.length - 1; i >= 0; i--) {
      if (token[i] == 0) {
        if (second < 0) {
          second = i;
        } else {
          first = i;
          break;
        }
      }
    }
    if (second < 0 || first < 0) {
      return null;
    }
    return new String[] {
        new String(token, first + 1, second - first - 1, StandardCharsets.UTF_8),
        new String(token, second + 1, token.length - second - 1, StandardCharsets.UTF_8)};
  }

  private boolean passwordMatches(String name, String password) {
    AuthConfig auth = listener.config().auth();
    return auth.user(name).map(u -> u.password() != null && MessageDigest.isEqual(
        u.password().getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8))).orElse(false);
  }

  // ---------------------------------------------------------------- statements

  /**
   * One client request on its way: the frame (kept for a retry), what admission granted, and the
   * backend connection it was sent on. It is its own admission callback and response sink (no
   * further objects per request); a response read on this client's own event loop, the usual
   * case since the pool prefers connections of the requester's loop, is handled at once, without
   * a task through the loop's queue.
   */
  private final class Pending implements AdmissionCallback, ResponseSink {
    final CqlFrame frame;
    final CqlRequestInfo info;
    final CqlVariant variant;
    Ticket ticket;
    boolean retried;
    /** The client has its answer: the hinted timeout_ms passed first (the backend's is dropped). */
    boolean timedOut;
    /** The hinted timeout_ms timer, cancelled when the request ends first. */
    Scheduler.Cancellable timer;
    /** The connection the request was last sent on, until its answer or failure comes back. */
    PooledConnection conn;

    Pending(CqlFrame frame, CqlRequestInfo info, CqlVariant variant) {
      this.frame = frame;
      this.info = info;
      this.variant = variant;
    }

    @Override
    public void admitted(Ticket granted) {
      ticket = granted;
      armDeadline(this);
      dispatch(this, null);
    }

    @Override
    public void refused(Refusal refusal) {
      finish(this, CqlMessages.error(ctx.alloc(), version, frame.stream(), CqlMessages.OVERLOADED,
          refusal.message()), null, 0);
    }

    @Override
    public void response(CqlFrame response) {
      if (ctx.executor().inEventLoop()) {
        answered(response);
      } else {
        ctx.executor().execute(() -> answered(response));
      }
    }

    @Override
    public void failed(Throwable cause) {
      if (ctx.executor().inEventLoop()) {
        lost(cause);
      } else {
        ctx.executor().execute(() -> lost(cause));
      }
    }

    private void answered(CqlFrame response) {
      PooledConnection c = conn;
      conn = null;
      c.done();
      onResponse(this, c, response);
    }

    private void lost(Throwable cause) {
      conn.done();
      conn = null;
      if (cause instanceof CqlBackendHandler.StreamsExhaustedException) {
        finish(this, CqlMessages.error(ctx.alloc(), version, frame.stream(), CqlMessages.OVERLOADED,
            "mproxy: rejected group=" + ticket.group() + " reason=queue_full (" + cause.getMessage() + ")"),
            Outcome.REJECTED, 0);
      } else {
        finish(this, CqlMessages.error(ctx.alloc(), version, frame.stream(), CqlMessages.SERVER_ERROR,
            "mproxy: error group=" + ticket.group()
                + " reason=backend_unavailable (connection to the backend lost)"), Outcome.ERROR, 0);
      }
    }
  }

  private void statement(CqlFrame frame) {
    CqlRequestInfo info;
    try {
      info = CqlRequestInfo.of(frame, connector().prepared());
    } catch (RuntimeException e) {
      int stream = frame.stream();
      frame.release();
      protocolError(stream, "malformed " + CqlOpcode.name(frame.opcode()) + " body");
      return;
    }
    String ks = keyspace;
    if (info.statement() != null && info.statement().useKeyspace() != null && frame.opcode() == CqlOpcode.QUERY) {
      ks = info.statement().useKeyspace();
    } else if (info.keyspace() != null) {
      ks = info.keyspace();
    }
    if (!connector().admitKeyspace(ks)) {
      int stream = frame.stream();
      frame.release();
      write(CqlMessages.error(ctx.alloc(), version, stream, CqlMessages.INVALID, "mproxy: more than "
          + CqlBackendConnector.MAX_KEYSPACES + " keyspaces in use through this cluster; keyspace " + ks + " refused"));
      return;
    }
    Pending p = new Pending(frame, info, new CqlVariant(version, ks));
    Request request = new Request(identity(), info.kind(), info.command(), info.fingerprint(), frame.size(),
        listener.clock().nanoTime(), true).hints(info.hints());
    inFlight++;
    inFlightBytes += frame.size();
    if (inFlight >= IN_FLIGHT_HIGH || inFlightBytes >= IN_FLIGHT_BYTES_HIGH) {
      ctx.channel().config().setAutoRead(false);
    }
    Cluster cluster = listener.cluster();
    listener.gateway().admit(request, classification(), listener.origin(), cluster.weights(), scheduler, p);
  }

  /** Sends {@code p} to a backend: the chosen one, or {@code on} (a retry after re-preparing). */
  private void dispatch(Pending p, Backend on) {
    if (closed || p.timedOut) {
      finish(p, null, Outcome.ERROR, 0);
      return;
    }
    Cluster cluster = listener.cluster();
    Backend backend = on != null ? on : cluster.select(p.ticket.request());
    if (backend == null && cluster.circuitsOpen()) {
      Refusal refusal = p.ticket.refuse(ShedReason.CIRCUIT_OPEN, cluster.circuitRetryAfterMs(),
          "every backend's circuit is open");
      finish(p, refusal == null ? null : CqlMessages.error(ctx.alloc(), version, p.frame.stream(),
          CqlMessages.OVERLOADED, refusal.message()), null, 0);
      return;
    }
    if (backend == null) {
      unavailable(p, "no backend of cluster " + cluster.name() + " is available");
      return;
    }
    BackendPool pool = cluster.pool(backend, p.variant.name());
    pool.acquire(false, (EventLoop) ctx.executor(), new BackendPool.Lease() {
      @Override
      public void granted(PooledConnection connection) {
        send(p, connection);
      }

      @Override
      public void failed(Throwable cause) {
        unavailable(p, cause instanceof PoolException pe ? pe.reason() : "connection failed");
      }
    });
  }

  private void send(Pending p, PooledConnection conn) {
    if (closed || p.timedOut) {
      conn.done();
      finish(p, null, Outcome.ERROR, 0);
      return;
    }
    p.ticket.dispatched(conn.backend());
    p.conn = conn;
    CqlBackendHandler handler = conn.attachment();
    handler.send(p.frame.withBody(p.frame.body().retainedDuplicate()), p);
  }

  private void onResponse(Pending p, PooledConnection conn, CqlFrame response) {
    if (closed || p.timedOut) {
      int size = response.size();
      response.release();
      finish(p, null, Outcome.ERROR, size);
      return;
    }
    if (response.opcode() == CqlOpcode.ERROR) {
      if (CqlMessages.errorCode(response) == CqlMessages.UNPREPARED && !p.retried && reprepare(p, conn, response)) {
        return;
      }
      finish(p, response.withStream(p.frame.stream()), outcomeOfError(response), response.size());
      return;
    }
    CqlFrame out = response;
    if (response.opcode() == CqlOpcode.RESULT) {
      out = onResult(p, response);
    }
    finish(p, out.withStream(p.frame.stream()), Outcome.OK, response.size());
  }

  /** The backend's own read and write timeouts count as timeouts, every other error as an error. */
  private static Outcome outcomeOfError(CqlFrame error) {
    int code = CqlMessages.errorCode(error);
    return code == CqlMessages.WRITE_TIMEOUT || code == CqlMessages.READ_TIMEOUT ? Outcome.TIMEOUT : Outcome.ERROR;
  }

  /** Learns from a RESULT (prepared ids, keyspace changes) and rewrites topology answers. */
  private CqlFrame onResult(Pending p, CqlFrame response) {
    ByteBuf b = response.body().duplicate();
    try {
      b.skipBytes(CqlMessages.responsePrefix(response));
      int kind = b.readInt();
      if (kind == CqlMessages.RESULT_PREPARED && p.frame.opcode() == CqlOpcode.PREPARE) {
        byte[] preparedId = CqlWire.readShortBytes(b);
        connector().prepared().put(preparedId, new PreparedStatements.Entry(p.variant.keyspace(), p.info.query()));
      } else if (kind == CqlMessages.RESULT_SET_KEYSPACE) {
        keyspace = CqlWire.readString(b);
        identityChanged();
      } else if (kind == CqlMessages.RESULT_ROWS && p.info.statement() != null
          && p.frame.opcode() == CqlOpcode.QUERY) {
        return rewriteTopology(p.info.statement().topology(), response);
      }
    } catch (RuntimeException e) {
      LOG.debug("session {}: unreadable RESULT passed through: {}", id, e.toString());
    }
    return response;
  }

  private CqlFrame rewriteTopology(CqlStatement.Topology topology, CqlFrame response) {
    CqlFrame rewritten = switch (topology) {
      case PEERS -> TopologyRewrite.withoutRows(ctx.alloc(), response);
      case LOCAL -> TopologyRewrite.withProxyAddress(ctx.alloc(), response,
          (InetSocketAddress) ctx.channel().localAddress());
      case NONE -> null;
    };
    if (rewritten == null) {
      return response;
    }
    response.release();
    return rewritten;
  }

  /**
   * UNPREPARED: prepares the statement again on the same backend, with the keyspace it was first
   * prepared in, then sends the request once more. False when the proxy does not know the id.
   */
  private boolean reprepare(Pending p, PooledConnection failedOn, CqlFrame unprepared) {
    byte[] preparedId;
    try {
      ByteBuf b = unprepared.body().duplicate();
      b.skipBytes(CqlMessages.responsePrefix(unprepared) + 4);
      CqlWire.readString(b);
      preparedId = CqlWire.readShortBytes(b);
    } catch (RuntimeException e) {
      return false;
    }
    PreparedStatements.Entry entry = connector().prepared().get(preparedId);
    if (entry == null) {
      return false;
    }
    unprepared.release();
    p.retried = true;
    Backend backend = failedOn.backend();
    BackendPool pool = listener.cluster().pool(backend, new CqlVariant(version, entry.keyspace()).name());
    pool.acquire(false, (EventLoop) ctx.executor(), new BackendPool.Lease() {
      @Override
      public void granted(PooledConnection conn) {
        ByteBuf body = ctx.alloc().buffer();
        CqlWire.writeLongString(body, entry.query());
        if (version >= 5) {
          body.writeInt(0);
        }
        CqlBackendHandler handler = conn.attachment();
        handler.send(CqlMessages.request(version, 0, CqlOpcode.PREPARE, body), new ResponseSink() {
          @Override
          public void response(CqlFrame frame) {
            ctx.executor().execute(() -> {
              conn.done();
              if (frame.opcode() == CqlOpcode.RESULT) {
                frame.release();
                LOG.debug("session {}: re-prepared {} on {}", id, CqlRequestInfo.hex(preparedId), backend.id());
                dispatch(p, backend);
              } else {
                finish(p, frame.withStream(p.frame.stream()), Outcome.ERROR, frame.size());
              }
            });
          }

          @Override
          public void failed(Throwable cause) {
            ctx.executor().execute(() -> {
              conn.done();
              unavailable(p, "re-prepare failed: " + cause);
            });
          }
        });
      }

      @Override
      public void failed(Throwable cause) {
        unavailable(p, cause instanceof PoolException pe ? pe.reason() : "connection failed");
      }
    });
    return true;
  }

  private void unavailable(Pending p, String why) {
    finish(p, CqlMessages.error(ctx.alloc(), version, p.frame.stream(), CqlMessages.OVERLOADED,
        "mproxy: error group=" + p.ticket.group() + " reason=backend_unavailable (" + why + ")"), Outcome.ERROR, 0);
  }

  /**
   * Ends a request: answers the client (when {@code reply} is not null), ends its ticket with
   * {@code outcome} (null: refused, no ticket) and frees the request frame.
   */
  private void finish(Pending p, CqlFrame reply, Outcome outcome, long bytesOut) {
    if (p.timer != null) {
      p.timer.cancel();
      p.timer = null;
    }
    if (p.timedOut) {
      outcome = outcome == null ? null : Outcome.TIMEOUT;
      if (reply != null) {
        reply.release(); // the client already has its timeout error
        reply = null;
      }
    }
    if (outcome != null && p.ticket != null) {
      p.ticket.complete(outcome, bytesOut);
    }
    inFlightBytes -= p.frame.size();
    p.frame.release();
    inFlight--;
    if (reply != null) {
      write(reply);
    }
    maybeResumeReading();
  }

  /**
   * A hinted {@code timeout_ms} or the listener's {@code query_timeout_ms} (counted from
   * admission): when the deadline passes before the answer, the client gets Server error
   * {@code mproxy: timeout …} at once. CQL has no way to stop a running request, so the request
   * stays on its backend stream (the id is freed only when the backend answers); that late answer
   * is dropped and the ticket ends then, as a timeout, with its real latency.
   */
  private void armDeadline(Pending p) {
    long deadline = queryTimeout.deadlineNanos(p.ticket.request(), listener.clock(), 0);
    if (deadline == 0) {
      return;
    }
    long left = deadline - listener.clock().nanoTime();
    if (left <= 0) {
      timeOut(p); // spent its time in the admission queue: not sent at all (dispatch sees timedOut)
      return;
    }
    p.timer = scheduler.schedule(() -> {
      p.timer = null;
      timeOut(p);
    }, left);
  }

  private void timeOut(Pending p) {
    if (p.timedOut || p.ticket.ended() || closed) {
      return;
    }
    p.timedOut = true;
    if (io.mproxy.core.request.QueryTimeout.hinted(p.ticket.request())) {
      listener.gateway().telemetry().hintTimeout(p.ticket.group());
    }
    write(CqlMessages.error(ctx.alloc(), version, p.frame.stream(), CqlMessages.SERVER_ERROR, timeoutMessage(p)));
  }

  static String timeoutMessage(String group, String setting) {
    String reason = setting.substring(0, setting.indexOf('='));
    return "mproxy: timeout group=" + group + " reason=" + reason + " (" + setting
        + " passed before the backend answered; its answer will be dropped)";
  }

  private String timeoutMessage(Pending p) {
    return timeoutMessage(p.ticket.group(), queryTimeout.setting(p.ticket.request()));
  }

  // ---------------------------------------------------------------- identity

  private TenantIdentity identity() {
    TenantIdentity t = tenant;
    if (t == null) {
      t = new TenantIdentity(listener.config().name(), user, keyspace, application);
      tenant = t;
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
      classification = listener.gateway().classify(identity());
      classifiedGeneration = gen;
    }
    return classification;
  }

  private CqlBackendConnector connector() {
    return (CqlBackendConnector) listener.cluster().connector();
  }

  // ---------------------------------------------------------------- outbound

  private void write(CqlFrame frame) {
    if (closed) {
      frame.release();
      return;
    }
    ctx.write(frame, ctx.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      TickFlusher.later(ctx.executor(), flushTask);
    }
  }

  private void flushNow() {
    flushScheduled = false;
    if (!closed) {
      ctx.flush();
    }
  }

  private void protocolError(int stream, String message) {
    write(CqlMessages.error(ctx.alloc(), version == 0 ? CqlFrameDecoder.MAX_VERSION : version, stream,
        CqlMessages.PROTOCOL_ERROR, message));
    closeAfterFlush();
  }

  private void closeAfterFlush() {
    closing = true;
    ctx.channel().config().setAutoRead(false);
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void maybeResumeReading() {
    if (closed || closing) {
      return;
    }
    if (inFlight <= IN_FLIGHT_LOW && inFlightBytes <= IN_FLIGHT_BYTES_LOW && ctx.channel().isWritable()
        && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext context) {
    if (!context.channel().isWritable()) {
      context.channel().config().setAutoRead(false);
    } else {
      maybeResumeReading();
    }
    context.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    CqlCodecException codec = cause instanceof CqlCodecException c ? c
        : cause instanceof DecoderException && cause.getCause() instanceof CqlCodecException c ? c : null;
    if (codec != null) {
      CqlCodecException e = codec;
      LOG.debug("session {}: protocol error: {}", id, e.getMessage());
      if (!closing && !closed) {
        writeCodecError(e);
      }
      return;
    }
    LOG.debug("session {}: {}", id, cause.toString());
    context.close();
  }

  /** Answers a framing error in the version it calls for (v1/v2: their 8-byte header), then closes. */
  private void writeCodecError(CqlCodecException e) {
    int v = e.replyVersion() != 0 ? e.replyVersion() : (version != 0 ? version : CqlFrameDecoder.MAX_VERSION);
    if (v >= 3) {
      closing = true;
      CqlFrame error = CqlMessages.error(ctx.alloc(), v, e.stream(), CqlMessages.PROTOCOL_ERROR, e.getMessage());
      ctx.channel().config().setAutoRead(false);
      if (v != version && ctx.pipeline().get(CqlFrameEncoder.class).segments()) {
        error.release();
        ctx.close();
        return;
      }
      ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    byte[] message = e.getMessage().getBytes(StandardCharsets.UTF_8);
    ByteBuf raw = ctx.alloc().buffer(8 + 6 + message.length);
    raw.writeByte(v | 0x80).writeByte(0).writeByte(e.stream()).writeByte(CqlOpcode.ERROR)
        .writeInt(6 + message.length).writeInt(CqlMessages.PROTOCOL_ERROR)
        .writeShort(message.length).writeBytes(message);
    closing = true;
    ctx.channel().config().setAutoRead(false);
    ctx.writeAndFlush(raw).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    closed = true;
    context.fireChannelInactive();
  }
}

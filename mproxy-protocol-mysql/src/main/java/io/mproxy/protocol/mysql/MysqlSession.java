package io.mproxy.protocol.mysql;

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
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.time.EventLoopScheduler;
import io.mproxy.core.time.ReadBatch;
import io.mproxy.core.time.Scheduler;
import io.mproxy.core.wire.WriteCoalescer;
import io.mproxy.protocol.mysql.auth.RsaKeys;
import io.mproxy.protocol.mysql.auth.Scrambles;
import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.MysqlBuf;
import io.mproxy.protocol.mysql.codec.MysqlCodecException;
import io.mproxy.protocol.mysql.codec.PacketFramer;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.protocol.mysql.codec.Packets;
import io.mproxy.protocol.mysql.codec.ResponseReader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MySQL client connection. It greets the client with the proxy's own connection id, checks
 * its password against the listener's users, then runs one command at a time (commands the
 * client pipelines wait in a bounded inbox):
 * <ol>
 *   <li>the proxy answers what it owns itself (COM_PING, COM_QUIT, COM_STMT_CLOSE,
 *       COM_RESET_CONNECTION, KILL of proxy connection ids);</li>
 *   <li>everything else is a {@link Request} through the core chain (classify, admit by RU),
 *       then runs on an exclusively leased backend connection of the client's {@link Variant};</li>
 *   <li>before the command, the connection is brought to the session's state: schema,
 *       replayable session variables (or COM_RESET_CONNECTION and replay when it carries
 *       someone else's), and the prepared statement the command needs (re-prepared by SQL text,
 *       with statement ids rewritten both ways);</li>
 *   <li>the answer is forwarded as it arrives; its last OK/EOF tells whether a transaction is
 *       open. In transaction pooling the lease is given back when none is and nothing pins the
 *       session (user variables, temporary tables, locks, cursors, long data...).</li>
 * </ol>
 * All state lives on the client's event loop; answers are read on the backend's loop and handed
 * over in batches.
 */
final class MysqlSession extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(MysqlSession.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int INBOX_HIGH = 256;
  private static final int INBOX_LOW = 32;
  private static final int MAX_STATEMENTS = 16_384;
  private static final int MAX_ASSIGNMENTS = 64;
  private static final long KILL_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final int PROXY_CAPS = Mysql.CLIENT_LONG_PASSWORD | Mysql.CLIENT_FOUND_ROWS
      | Mysql.CLIENT_LONG_FLAG | Mysql.CLIENT_CONNECT_WITH_DB | Mysql.CLIENT_IGNORE_SPACE
      | Mysql.CLIENT_PROTOCOL_41 | Mysql.CLIENT_INTERACTIVE | Mysql.CLIENT_TRANSACTIONS
      | Mysql.CLIENT_SECURE_CONNECTION | Mysql.CLIENT_MULTI_STATEMENTS | Mysql.CLIENT_MULTI_RESULTS
      | Mysql.CLIENT_PS_MULTI_RESULTS | Mysql.CLIENT_PLUGIN_AUTH | Mysql.CLIENT_CONNECT_ATTRS
      | Mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | Mysql.CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS
      | Mysql.CLIENT_SESSION_TRACK | Mysql.CLIENT_DEPRECATE_EOF;

  private enum Phase { GREETING, SWITCH, SHA2_FAST, SHA2_FULL, PASSTHROUGH_AUTH, COMMANDS, CLOSED }

  private static final String PASSTHROUGH_PIN = "passthrough authentication (the connection is the client's own)";

  /** A statement the client prepared: the proxy's id for it and what it needs to re-prepare it. */
  private static final class ClientStatement {
    final long id;
    final String sql;
    final StatementInspector.Info info;
    /** The text's hints, read once at prepare rather than at every execute. */
    final io.mproxy.core.hint.QueryHints hints;
    int params;
    byte[] types;
    /**
     * Under metadata caching: the column definitions this client last received for the statement
     * (null: not known, so the server's are put into the next answer that skips them).
     */
    io.mproxy.protocol.mysql.codec.ColumnMetadata meta;

    ClientStatement(long id, String sql, StatementInspector.Info info) {
      this.id = id;
      this.sql = sql;
      this.info = info;
      this.hints = hints(sql);
    }
  }

  /**
   * One forwarded command, from admission to the last packet of its answer. It is also the
   * command's admission callback, its runaway-cancel hook and the exchange that reads its answer
   * on the backend loop: one object per command instead of four. A session runs one command at
   * a time, so a job that ended cleanly is kept and {@link #start started} again for the next
   * command (see {@link #recycle}); one that may still be referred to by a timer is not.
   */
  private final class Job extends Exchange implements AdmissionCallback, Runnable {
    int command;
    MysqlPacket packet;
    Request request;
    StatementInspector.Info info;
    ClientStatement stmt;
    String prepareSql;
    long logicalId;
    String initDb;
    /** A SELECT SQL_CALC_FOUND_ROWS: the next statement keeps the connection (for FOUND_ROWS()). */
    boolean calcFoundRows;
    Ticket ticket;
    ResponseReader reader;
    PooledConnection conn;
    volatile boolean timedOut;
    boolean killInFlight;
    boolean responseDone;
    int lastForwardedSeq;
    long bytesOut;
    Scheduler.Cancellable timer;
    /** Answer packets read but not handed to the client loop yet (only when that is another loop). */
    private List<ByteBuf> batch;
    /** The backend connection lives on the client's loop: answer packets are written to the client as read. */
    private boolean sameLoop;
    private boolean unflushed;
    private boolean rewritten;
    /** The backend statement an execute runs (metadata bookkeeping). */
    MysqlBackend.Statement backendStatement;
    /** The backend statement a statement command runs, looked up once by {@link #sync}. */
    MysqlBackend.Statement serverStatement;
    /**
     * Metadata caching: the column definitions the server believes this connection has for the
     * statement, when the client has others; put into the answer if the server skips them.
     */
    io.mproxy.protocol.mysql.codec.ColumnMetadata inject;
    boolean injected;
    /** How many packets the proxy added to the answer: later sequence ids move up by as many. */
    private int seqShift;
    /** Where the packets of the current read that are not handed on yet start (-1: none). */
    private int pendingFrom = -1;
    /** The last packet of the answer was read in place; {@link #endRun} hands the answer over. */
    private boolean answerRead;

    /** (Re)starts this job for one command: every field as a new job has it. */
    Job start(int nextCommand, MysqlPacket nextPacket, Request nextRequest, StatementInspector.Info nextInfo) {
      command = nextCommand;
      packet = nextPacket;
      request = nextRequest;
      info = nextInfo;
      stmt = null;
      prepareSql = null;
      logicalId = 0;
      initDb = null;
      calcFoundRows = false;
      ticket = null;
      reader = null;
      conn = null;
      timedOut = false;
      killInFlight = false;
      responseDone = false;
      lastForwardedSeq = 0;
      bytesOut = 0;
      timer = null;
      batch = null;
      sameLoop = false;
      unflushed = false;
      rewritten = false;
      backendStatement = null;
      serverStatement = null;
      inject = null;
      injected = false;
      seqShift = 0;
      pendingFrom = -1;
      answerRead = false;
      return this;
    }

    @Override
    public void admitted(Ticket t) {
      ticket = t;
      if (closed) {
        releasePacket();
        t.complete(Outcome.ERROR, 0);
        endJob(this);
        return;
      }
      withConnection(this);
    }

    @Override
    public void refused(Refusal refusal) {
      releasePacket();
      if (!closed && reader != null) {
        writeErr(1, refusalCode(refusal), refusal.message());
      }
      endJob(this);
    }

    /**
     * The ticket's cancel hook (a runaway rule): stops the statement the way a client's KILL QUERY
     * does. The job may have been started again for the next command by the time this runs on the
     * session's loop: only a ticket whose cancel was asked for is stopped, so the next command's
     * is not.
     */
    @Override
    public void run() {
      ctx.executor().execute(() -> {
        Ticket t = ticket;
        if (current == this && t != null && t.cancelRequested() && !t.ended()) {
          killRunningQuery();
        }
      });
    }

    /** Before the command is sent: where the answer will be read. */
    void expectAnswerOn(PooledConnection connection) {
      sameLoop = connection.channel().eventLoop() == ctx.executor();
    }

    // ---- the exchange, on the backend connection's loop

    @Override
    boolean onPacket(MysqlPacket p) {
      boolean last;
      try {
        last = reader.accept(p);
      } catch (MysqlCodecException e) {
        p.release();
        throw e;
      }
      bytesOut += p.length();
      if (timedOut) {
        p.release();
      } else {
        if (command == Mysql.COM_STMT_PREPARE && !rewritten && reader.statementId() >= 0) {
          rewritten = true;
          ByteBuf raw = p.raw();
          raw.setIntLE(raw.readerIndex() + 5, (int) logicalId);
        }
        if (seqShift != 0) {
          shiftSequenceIds(p.raw(), seqShift);
        }
        lastForwardedSeq = (p.lastSequenceId() + seqShift) & 0xFF;
        boolean injectNow = inject != null && !injected && reader.metadataSkipped();
        if (injectNow) {
          // the server skipped column definitions this client does not have: they follow the count
          injected = true;
          p.payloadBuffer().setByte(reader.metadataFlagIndex(), 1);
        }
        pass(p.takeRaw());
        if (injectNow) {
          passInjectedDefinitions();
        }
      }
      if (last) {
        hand(true);
      }
      return last;
    }

    /**
     * The forward path: a packet of the answer read in place. It is checked by the reader and,
     * where the proxy must, changed in place (a prepare's statement id, sequence ids after
     * column definitions the proxy put in); the packets of one read go on as one slice at
     * {@link #endRun}.
     */
    @Override
    boolean onPacketInPlace(ByteBuf buf, int at, int len, int seq) {
      boolean last = reader.accept(buf, at + 4, len);
      bytesOut += len;
      if (timedOut) {
        // what was read before the timeout goes on; nothing after it
        handPending(buf, at);
      } else {
        if (command == Mysql.COM_STMT_PREPARE && !rewritten && reader.statementId() >= 0) {
          rewritten = true;
          buf.setIntLE(at + 4 + 1, (int) logicalId);
        }
        if (seqShift != 0) {
          buf.setByte(at + 3, (seq + seqShift) & 0xFF);
        }
        lastForwardedSeq = (seq + seqShift) & 0xFF;
        if (pendingFrom < 0) {
          pendingFrom = at;
        }
        if (inject != null && !injected && reader.metadataSkipped()) {
          // the server skipped column definitions this client does not have: they follow the count
          injected = true;
          buf.setByte(reader.metadataFlagIndex(), 1);
          handPending(buf, at + 4 + len);
          passInjectedDefinitions();
        }
      }
      if (last) {
        answerRead = true;
      }
      return last;
    }

    @Override
    void endRun(ByteBuf buf, int to) {
      handPending(buf, to);
      if (answerRead) {
        answerRead = false;
        hand(true);
      }
    }

    /** Hands on the packets from {@link #pendingFrom} to {@code to} as one slice of the read buffer. */
    private void handPending(ByteBuf buf, int to) {
      int from = pendingFrom;
      if (from < 0) {
        return;
      }
      pendingFrom = -1;
      if (from == buf.readerIndex() && to == buf.writerIndex()) {
        pass(buf.retain());   // the whole read is this answer's: no slice of it needed
      } else if (to > from) {
        pass(buf.retainedSlice(from, to - from));
      }
    }

    /**
     * Puts the column definitions the server skipped (and this client lacks) after the column
     * count just handed on; the answer's later sequence ids move up by as many packets.
     */
    private void passInjectedDefinitions() {
      ByteBuf defs = ctx.alloc().buffer(inject.wireSize());
      inject.writePackets(defs, lastForwardedSeq + 1);
      seqShift = inject.columns();
      pass(defs);
    }

    /** Hands one buffer of the answer on to the client (written now on the same loop, else batched). */
    private void pass(ByteBuf raw) {
      if (sameLoop) {
        if (closed) {
          raw.release();
        } else {
          out.write(raw);
          unflushed = true;
        }
      } else {
        if (batch == null) {
          batch = new ArrayList<>();
        }
        batch.add(raw);
      }
    }

    @Override
    void onReadComplete() {
      if (sameLoop ? unflushed : batch != null && !batch.isEmpty()) {
        hand(false);
      }
    }

    private void hand(boolean done) {
      if (sameLoop) {
        unflushed = false;
        onBackendData(this, List.of(), done);
        return;
      }
      List<ByteBuf> out = batch == null ? List.of() : batch;
      batch = null;
      ctx.executor().execute(() -> {
        ReadBatch.begin();
        try {
          onBackendData(this, out, done);
        } finally {
          ReadBatch.end();
        }
      });
    }

    @Override
    void failed(Throwable cause) {
      List<ByteBuf> out = batch == null ? List.of() : batch;
      batch = null;
      ctx.executor().execute(() -> {
        out.forEach(ByteBuf::release);
        onBackendFailed(this, cause);
      });
    }

    void releasePacket() {
      if (packet != null) {
        packet.release();
        packet = null;
      }
    }
  }

  /** Adds {@code shift} to the sequence id of every wire packet in {@code raw} (16 MB pieces included). */
  private static void shiftSequenceIds(ByteBuf raw, int shift) {
    int at = raw.readerIndex();
    int end = raw.writerIndex();
    while (at + 4 <= end) {
      raw.setByte(at + 3, (raw.getUnsignedByte(at + 3) + shift) & 0xFF);
      at += 4 + raw.getUnsignedMediumLE(at);
    }
  }

  private final ListenerContext listener;
  private final MysqlProtocolAdapter adapter;
  private final SessionRegistry registry;
  private final Sha2Cache sha2Cache;
  private final ArrayDeque<MysqlPacket> inbox = new ArrayDeque<>();
  /** Frames the client's bytes into packets (no decoder stage in the pipeline). */
  private final PacketFramer framer;
  /** The framer's in-place view of the command being read (see {@link #onBorrowed}). */
  private final MysqlPacket view = MysqlPacket.borrowedView();
  /** A packet of the read buffer is lent out: a read that arrives meanwhile waits in {@link #deferred}. */
  private boolean lending;
  /**
   * Reads delivered while a packet was lent (a handler in front, such as TLS, firing a read
   * from within a write): framing them then would move or re-lend the bytes under the lent
   * packet, so they are framed after it is given back. Null: none.
   */
  private ArrayDeque<ByteBuf> deferred;
  private final LeaseWait leaseWait = new LeaseWait();
  /** The answer reader of the forwarded command (one runs at a time; internal commands have their own). */
  private final ResponseReader forwardReader = new ResponseReader(ResponseReader.Shape.SINGLE, false);
  private final LinkedHashMap<String, String> assignments = new LinkedHashMap<>();
  /** The client's prepared statements by the proxy's statement id (no boxing per execute). */
  private final LongObjectHashMap<ClientStatement> statements = new LongObjectHashMap<>();
  private ChannelHandlerContext ctx;
  /**
   * Every write to the client goes through it: the packets of an answer read in one backend read
   * (a point select's column definition, row and EOF/OK) leave in one buffer and one send, not a
   * writev of one slice per packet.
   */
  private WriteCoalescer out;
  private Scheduler scheduler;
  private ListenerOptions options;
  private long connectionId;
  private byte[] nonce;
  private Phase phase = Phase.GREETING;
  private ClientAuth auth;
  /** The credentials in force while a COM_CHANGE_USER is being authenticated (restored if it fails). */
  private ClientAuth previousAuth;
  private int caps;
  /** MariaDB extended capabilities agreed with the client (a subset of {@link Variant#EXT_MASK}). */
  private int extCaps;
  /** The extended capabilities the greeting offered. */
  private int offeredExt;
  private Variant variant;
  private String user;
  private String schema;
  private String application;
  private boolean userCounted;
  private boolean tls;
  /** Listener without auth: the client logs in to its own backend connection, pinned for the session. */
  private boolean passthrough;
  /** Passthrough: what to add to a client packet's sequence id on the backend connection. */
  private int seqDelta;

  private boolean busy;
  private boolean draining;
  private boolean closed;
  private Job current;
  /** A job that ended cleanly, started again for the next command (one object per session, not per command). */
  private Job spare;
  private PooledConnection lease;
  private int status = Mysql.SERVER_STATUS_AUTOCOMMIT;
  private String pinReason;
  private boolean longDataPending;
  /** The connection stays leased for the next forwarded command (FOUND_ROWS() after SQL_CALC_FOUND_ROWS). */
  private boolean holdNext;
  /** LAST_INSERT_ID() and ROW_COUNT() as this client's statements left them (see SessionFunctions). */
  private long lastInsertId;
  private long rowCount = -1;
  private long nextStatementId;
  private long lastPrepared = -1;
  private long lastActivity;
  private Scheduler.Cancellable waitTimer;

  private TenantIdentity tenant;
  private Classification classification;
  private long classifiedGeneration = -1;

  MysqlSession(ListenerContext listener, MysqlProtocolAdapter adapter, SessionRegistry registry, Sha2Cache sha2Cache) {
    this.listener = listener;
    this.adapter = adapter;
    this.registry = registry;
    this.sha2Cache = sha2Cache;
    this.framer = new PacketFramer(listener.config().maxFrameBytes());
  }

  long connectionId() {
    return connectionId;
  }

  String user() {
    return user;
  }

  String listenerName() {
    return listener.config().name();
  }

  // ================================================================ greeting and login

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.ctx = context;
    this.out = new WriteCoalescer(context);
    this.scheduler = new EventLoopScheduler(context.executor());
    this.options = adapter.options(listener.config());
    this.passthrough = !listener.config().auth().terminates();
    if (context.channel().isActive()) {
      greet();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext context) {
    if (connectionId == 0) {
      greet();
    }
    context.fireChannelActive();
  }

  private void greet() {
    connectionId = registry.register(this);
    nonce = Scrambles.nonce(RANDOM);
    lastActivity = listener.clock().nanoTime();
    armWaitTimer(options.waitTimeoutMs());
    if (passthrough) {
      passthroughGreet();
      return;
    }
    MysqlBackendConnector connector = connector();
    writeGreeting(connector.serverCaps(), connector.serverExtCaps(), connector.serverVersion(), options.authPlugin());
  }

  /**
   * The greeting with the proxy's connection id and {@link #nonce}; capabilities the backends
   * lack ({@code backendCaps}, -1 unknown) are not offered. MariaDB's extended capabilities of the
   * variant are offered when the backends (MariaDB: CLIENT_MYSQL clear) have them; the greeting
   * then looks like a MariaDB server's (CLIENT_MYSQL clear, extended capabilities in the last 4
   * reserved bytes).
   */
  private void writeGreeting(int backendCaps, int backendExtCaps, String serverVersion, String plugin) {
    int offered = PROXY_CAPS;
    offeredExt = 0;
    if (backendCaps != -1) {
      offered &= ~(Variant.MASK & ~backendCaps);
      if (passthrough) {
        offered &= backendCaps;
      }
      if ((backendCaps & Mysql.CLIENT_MYSQL) == 0) {
        offeredExt = backendExtCaps & Variant.EXT_MASK;
      }
    }
    if (offeredExt != 0) {
      offered &= ~Mysql.CLIENT_MYSQL;
    }
    if (options.tls() != null) {
      offered |= Mysql.CLIENT_SSL;
    }
    ByteBuf p = Packets.start(ctx.alloc(), 0, 96);
    p.writeByte(10);
    MysqlBuf.writeNulString(p, options.serverVersion() != null ? options.serverVersion() : serverVersion);
    p.writeIntLE((int) connectionId);
    p.writeBytes(nonce, 0, 8).writeByte(0);
    p.writeShortLE(offered & 0xFFFF);
    p.writeByte(Variant.DEFAULT_COLLATION);
    p.writeShortLE(Mysql.SERVER_STATUS_AUTOCOMMIT);
    p.writeShortLE(offered >>> 16);
    p.writeByte(Scrambles.NONCE_LENGTH + 1);
    p.writeZero(6).writeIntLE(offeredExt);
    p.writeBytes(nonce, 8, 12).writeByte(0);
    MysqlBuf.writeNulString(p, plugin);
    writeAndFlush(Packets.finish(p));
  }

  // ================================================================ passthrough login

  /**
   * Passthrough: a backend connection of its own (the pool's passthrough variant: greeted, not
   * logged in) is leased and pinned first, and its server's nonce and plugin are offered to the
   * client, so the client's proof is the server's to check.
   */
  private void passthroughGreet() {
    Cluster cluster = listener.cluster();
    Request connect = new Request(new TenantIdentity(listenerName(), null, null, null), RequestKind.SESSION,
        "CONNECT", "CONNECT", 0, listener.clock().nanoTime(), false);
    Backend backend = cluster.select(connect);
    if (backend == null) {
      refuseLogin(0, Mysql.ER_CON_COUNT_ERROR, "mproxy: no backend of cluster " + cluster.name() + " is available");
      return;
    }
    BackendPool pool = cluster.pool(backend, MysqlBackendConnector.PASSTHROUGH_VARIANT);
    pool.acquire(true, (EventLoop) ctx.executor(), new BackendPool.Lease() {
      @Override
      public void granted(PooledConnection connection) {
        MysqlBackend be = connection.attachment();
        if (closed || phase != Phase.GREETING || be.greeting == null) {
          pool.release(connection, false);
          return;
        }
        takeLease(connection);
        pin(PASSTHROUGH_PIN);
        nonce = be.greeting.nonce();
        writeGreeting(be.serverCaps, be.serverExtCaps, be.serverVersion, be.greeting.plugin());
      }

      @Override
      public void failed(Throwable cause) {
        if (closed) {
          return;
        }
        String why = cause instanceof PoolException pe ? pe.reason() : String.valueOf(cause.getMessage());
        refuseLogin(0, Mysql.ER_CON_COUNT_ERROR, "mproxy: rejected reason=no_backend_connection (" + why + ")");
      }
    });
  }

  /** Passthrough: the client's HandshakeResponse goes to the server with the backend leg's TLS flag and sequence id. */
  private void relayHandshakeResponse(MysqlPacket packet, ClientAuth a) {
    if (lease == null || !lease.usable()) {
      refuseLogin(packet.sequenceId() + 1, Mysql.ER_UNKNOWN_ERROR,
          "mproxy: error reason=backend_unavailable (lost the backend connection during login)");
      return;
    }
    MysqlBackend be = lease.attachment();
    auth = a;
    caps = a.caps() & (PROXY_CAPS | Mysql.CLIENT_SSL);
    extCaps = (a.caps() & Mysql.CLIENT_MYSQL) == 0 ? a.extCaps() & offeredExt : 0;
    variant = Variant.of(caps, extCaps, a.collation());
    seqDelta = be.greeting.responseSeq() - packet.sequenceId();
    phase = Phase.PASSTHROUGH_AUTH;
    ByteBuf out = packet.raw().copy();
    int clientCaps = out.getIntLE(out.readerIndex() + 4);
    int relayed = (clientCaps & ~(Mysql.CLIENT_SSL | Mysql.CLIENT_COMPRESS | Mysql.CLIENT_LOCAL_FILES))
        | (be.greeting.encrypted() ? Mysql.CLIENT_SSL : 0);
    out.setIntLE(out.readerIndex() + 4, relayed);
    if ((clientCaps & Mysql.CLIENT_MYSQL) == 0 && out.readableBytes() >= 4 + 32) {
      out.setIntLE(out.readerIndex() + 4 + 28, extCaps);
    }
    out.setByte(out.readerIndex() + 3, be.greeting.responseSeq());
    connector().relayLogin(lease, out, new PassthroughLogin(lease, (EventLoop) ctx.executor()));
  }

  /** Passthrough: a client's packet during authentication (auth switch answer, RSA key request...). */
  private void relayAuthPacket(MysqlPacket packet) {
    if (lease == null) {
      return;
    }
    MysqlBackend be = lease.attachment();
    ByteBuf out = packet.raw().copy();
    out.setByte(out.readerIndex() + 3, (packet.sequenceId() + seqDelta) & 0xFF);
    be.handler.send(out, null);
  }

  /** Relays the server's side of a passthrough login to the client until its OK or ERR. */
  private final class PassthroughLogin extends Exchange {
    private final PooledConnection conn;
    private final EventLoop clientLoop;

    PassthroughLogin(PooledConnection conn, EventLoop clientLoop) {
      this.conn = conn;
      this.clientLoop = clientLoop;
    }

    @Override
    boolean onPacket(MysqlPacket packet) {
      int header = packet.header();
      boolean last = header == Mysql.OK || header == Mysql.ERR;
      ByteBuf raw = packet.raw().copy();
      int seq = packet.sequenceId();
      packet.release();
      raw.setByte(raw.readerIndex() + 3, (seq - seqDelta) & 0xFF);
      clientLoop.execute(() -> onPassthroughAnswer(conn, raw, header, last, (seq - seqDelta) & 0xFF));
      return last;
    }

    @Override
    void failed(Throwable cause) {
      clientLoop.execute(() -> {
        if (phase == Phase.PASSTHROUGH_AUTH) {
          refuseLogin(2, Mysql.ER_UNKNOWN_ERROR, "mproxy: error reason=backend_unavailable (lost the backend"
              + " connection during login: " + cause + ")");
        }
      });
    }
  }

  private void onPassthroughAnswer(PooledConnection conn, ByteBuf raw, int header, boolean last, int seq) {
    if (closed || phase != Phase.PASSTHROUGH_AUTH || lease != conn) {
      raw.release();
      return;
    }
    if (!last) {
      writeAndFlush(raw);
      return;
    }
    if (header == Mysql.ERR) {
      writeAndFlush(raw);
      close();
      return;
    }
    int max = options.maxConnectionsPerUser();
    if (!registry.tryAddUser(listenerName(), auth.user(), max)) {
      raw.release();
      refuseLogin(seq, Mysql.ER_TOO_MANY_USER_CONNECTIONS, "mproxy: user '" + auth.user()
          + "' already has more than max_connections_per_user=" + max + " connections on listener "
          + listenerName());
      return;
    }
    userCounted = true;
    listener.handshakeCompleted(ctx.channel());
    user = auth.user();
    schema = auth.database();
    application = auth.application();
    MysqlBackend greeted = conn.attachment();
    MysqlBackend own = new MysqlBackend(greeted.handler, variant, greeted.threadId, greeted.serverVersion,
        greeted.serverCaps, schema);
    own.serverExtCaps = greeted.serverExtCaps;
    own.cacheMetadata = variant.cacheMetadata();
    conn.attach(own);
    phase = Phase.COMMANDS;
    LOG.debug("session {}: {} logged in as {} through to backend thread {}", connectionId, application, user,
        greeted.threadId);
    writeAndFlush(raw);
    drain();
  }

  private void onLoginPacket(MysqlPacket packet) {
    try {
      switch (phase) {
        case GREETING -> onHandshakeResponse(packet);
        case SWITCH -> verify(packet.sequenceId(), bytes(packet.payload()));
        case SHA2_FULL -> onSha2Full(packet);
        case PASSTHROUGH_AUTH -> relayAuthPacket(packet);
        default -> refuseLogin(packet.sequenceId() + 1, Mysql.ER_UNKNOWN_COM_ERROR, "mproxy: unexpected packet");
      }
    } catch (IndexOutOfBoundsException e) {
      refuseLogin(packet.sequenceId() + 1, Mysql.ER_UNKNOWN_COM_ERROR, "mproxy: malformed login packet");
    } finally {
      packet.release();
    }
  }

  private void onHandshakeResponse(MysqlPacket packet) {
    int expectedSeq = tls ? 2 : 1;
    if (packet.sequenceId() != expectedSeq) {
      refuseLogin(packet.sequenceId() + 1, 1156, "Got packets out of order");
      return;
    }
    ClientAuth a = ClientAuth.parse(packet.payload());
    if ((a.caps() & Mysql.CLIENT_PROTOCOL_41) == 0) {
      refuseLogin(packet.sequenceId() + 1, Mysql.ER_NOT_SUPPORTED_AUTH_MODE,
          "mproxy: clients must speak protocol 4.1");
      return;
    }
    if (a.sslRequest()) {
      if (options.tls() == null || tls) {
        refuseLogin(packet.sequenceId() + 1, Mysql.ER_NOT_SUPPORTED_AUTH_MODE, "mproxy: TLS is not offered");
        return;
      }
      tls = true;
      ctx.pipeline().addFirst("tls", options.tls().context().newHandler(ctx.alloc()));
      // A ClientHello that came in the same read as the SSLRequest is still in the framer.
      ByteBuf early = framer.takeBuffered();
      if (early.isReadable()) {
        ctx.pipeline().fireChannelRead(early);
      } else {
        early.release();
      }
      return;
    }
    if (passthrough) {
      relayHandshakeResponse(packet, a);
      return;
    }
    auth = a;
    caps = a.caps() & (PROXY_CAPS | Mysql.CLIENT_SSL);
    extCaps = (a.caps() & Mysql.CLIENT_MYSQL) == 0 ? a.extCaps() & offeredExt : 0;
    variant = Variant.of(caps, extCaps, a.collation());
    java.util.Optional<String> blocked = listener.authFailures().refusal(ctx.channel().remoteAddress());
    if (blocked.isPresent()) {
      refuseLogin(packet.sequenceId() + 1, Mysql.ER_ACCESS_DENIED_ERROR, blocked.get());
      return;
    }
    String plugin = a.plugin() == null ? Scrambles.NATIVE : a.plugin();
    if (!plugin.equals(options.authPlugin())) {
      phase = Phase.SWITCH;
      ByteBuf p = Packets.start(ctx.alloc(), packet.sequenceId() + 1, 64);
      p.writeByte(Mysql.EOF);
      MysqlBuf.writeNulString(p, options.authPlugin());
      p.writeBytes(nonce).writeByte(0);
      writeAndFlush(Packets.finish(p));
      return;
    }
    verify(packet.sequenceId(), a.authResponse());
  }

  private void verify(int seq, byte[] response) {
    AuthConfig.UserConfig u = listener.config().auth().user(auth.user()).orElse(null);
    String password = u == null ? null : u.password();
    if (options.authPlugin().equals(Scrambles.CACHING_SHA2)) {
      boolean match = password != null && Scrambles.matches(Scrambles.sha2Proof(password, nonce), response);
      if (!match && !(password != null && password.isEmpty() && response.length <= 1)) {
        accessDenied(seq + 1, response.length > 0);
        return;
      }
      if (password.isEmpty() || sha2Cache.contains(listenerName(), auth.user(), password)) {
        out.write(fastAuth(seq + 1, 3));
        loggedIn(seq + 2);
        return;
      }
      phase = Phase.SHA2_FULL;
      writeAndFlush(fastAuth(seq + 1, 4));
      return;
    }
    boolean ok = password != null && Scrambles.matches(Scrambles.nativeProof(password, nonce), response);
    if (!ok) {
      accessDenied(seq + 1, response.length > 0);
      return;
    }
    loggedIn(seq + 1);
  }

  private ByteBuf fastAuth(int seq, int what) {
    ByteBuf p = Packets.start(ctx.alloc(), seq, 2);
    p.writeByte(0x01).writeByte(what);
    return Packets.finish(p);
  }

  /** caching_sha2_password full authentication: cleartext over TLS, or the RSA key exchange. */
  private void onSha2Full(MysqlPacket packet) {
    byte[] data = bytes(packet.payload());
    int seq = packet.sequenceId();
    if (!tls && data.length == 1 && data[0] == 0x02) {
      byte[] pem = RsaKeys.shared().publicPem();
      ByteBuf p = Packets.start(ctx.alloc(), seq + 1, pem.length + 1);
      p.writeByte(0x01).writeBytes(pem);
      writeAndFlush(Packets.finish(p));
      return;
    }
    byte[] clear;
    if (tls) {
      clear = data;
    } else {
      byte[] decrypted = RsaKeys.shared().decrypt(data);
      clear = decrypted == null ? new byte[0] : Scrambles.xorWithNonce(decrypted, nonce);
    }
    int len = clear.length;
    while (len > 0 && clear[len - 1] == 0) {
      len--;
    }
    String given = new String(clear, 0, len, StandardCharsets.UTF_8);
    AuthConfig.UserConfig u = listener.config().auth().user(auth.user()).orElse(null);
    boolean ok = u != null && u.password() != null && Scrambles.matches(
        u.password().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    if (!ok) {
      accessDenied(seq + 1, true);
      return;
    }
    sha2Cache.add(listenerName(), auth.user(), u.password());
    loggedIn(seq + 1);
  }

  private void accessDenied(int seq, boolean usingPassword) {
    listener.authFailures().failed(ctx.channel().remoteAddress());
    refuseLogin(seq, Mysql.ER_ACCESS_DENIED_ERROR, "Access denied for user '" + auth.user() + "'@'"
        + clientHost() + "' (using password: " + (usingPassword ? "YES" : "NO") + ")");
  }

  private void loggedIn(int seq) {
    if (previousAuth != null) {
      changedUser(seq);
      return;
    }
    int max = options.maxConnectionsPerUser();
    if (!registry.tryAddUser(listenerName(), auth.user(), max)) {
      refuseLogin(seq, Mysql.ER_TOO_MANY_USER_CONNECTIONS, "mproxy: user '" + auth.user()
          + "' already has more than max_connections_per_user=" + max + " connections on listener "
          + listenerName());
      return;
    }
    userCounted = true;
    listener.handshakeCompleted(ctx.channel());
    user = auth.user();
    schema = auth.database();
    application = auth.application();
    phase = Phase.COMMANDS;
    LOG.debug("session {}: {} logged in as {} (client caps {}, pool variant '{}')", connectionId, application,
        user, Integer.toHexString(auth.caps()), variant.key());
    writeAndFlush(Packets.ok(ctx.alloc(), seq, 0, 0, status, 0, caps));
  }

  private void refuseLogin(int seq, int code, String message) {
    if (previousAuth != null) {
      auth = previousAuth;
      previousAuth = null;
      phase = Phase.COMMANDS;
      writeErr(seq & 0xFF, code, message);
      drain();
      return;
    }
    phase = Phase.CLOSED;
    out.writeGathered();
    ctx.writeAndFlush(Packets.err(ctx.alloc(), seq & 0xFF, code, message))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private String clientHost() {
    return ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a
        ? a.getAddress().getHostAddress() : "unknown";
  }

  private static byte[] bytes(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.getBytes(b.readerIndex(), out);
    return out;
  }

  // ================================================================ inbound commands

  /**
   * The client's bytes, framed here rather than by a decoder stage in front (no pipeline hop and
   * no decoder output list per command); each complete packet is handled as it is taken out, in
   * place in the read buffer when it can run at once (see {@link #onBorrowed}). Everything one
   * read brings takes one clock reading ({@link ReadBatch}).
   */
  @Override
  public void channelRead(ChannelHandlerContext context, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (closed || phase == Phase.CLOSED) {
      in.release();
      return;
    }
    if (lending) {
      if (deferred == null) {
        deferred = new ArrayDeque<>(2);
      }
      deferred.add(in);
      return;
    }
    framer.add(context.alloc(), in);
    ReadBatch.begin();
    try {
      while (!closed && phase != Phase.CLOSED) {
        ByteBuf later;
        while (deferred != null && (later = deferred.poll()) != null) {
          framer.add(context.alloc(), later);
        }
        MysqlPacket packet;
        try {
          packet = framer.poll(context.alloc(), view);
        } catch (MysqlCodecException e) {
          protocolError(e.errorCode(), e.getMessage());
          return;
        }
        if (packet == null) {
          return;
        }
        if (packet == view) {
          lending = true;
          try {
            onBorrowed(packet);
          } finally {
            lending = false;
            framer.giveBack(packet);
          }
        } else {
          onPacket(packet);
        }
      }
    } finally {
      ReadBatch.end();
    }
  }

  /**
   * A packet borrowed from the read buffer. A command that can run now (logged in, nothing
   * running or queued before it) is handled in place: classified, admitted and, when admission
   * and the connection answer at once, written to the backend straight from the read buffer, with
   * no packet object of its own. A command that has to wait (for admission's queue, a pool lease,
   * or the proxy's own commands that bring the connection to the session's state) is kept before
   * the read buffer is given back; so is every packet that queues behind another command.
   */
  private void onBorrowed(MysqlPacket packet) {
    if (phase != Phase.COMMANDS || busy || draining || !inbox.isEmpty()) {
      onPacket(packet.keep());
      return;
    }
    draining = true;
    try {
      lastActivity = ReadBatch.nanoTime(listener.clock());
      process(packet);
    } finally {
      draining = false;
      Job job = current;
      if (job != null && job.packet == packet) {
        // still waiting: the command outlives the read buffer
        job.packet = packet.keep();
      }
    }
    drain();
  }

  /** One complete packet from the client (owned). */
  private void onPacket(MysqlPacket packet) {
    if (phase != Phase.COMMANDS) {
      onLoginPacket(packet);
      return;
    }
    inbox.add(packet);
    if (inbox.size() >= INBOX_HIGH) {
      ctx.channel().config().setAutoRead(false);
    }
    drain();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      MysqlPacket p;
      while (!busy && !closed && phase == Phase.COMMANDS && (p = inbox.poll()) != null) {
        lastActivity = ReadBatch.nanoTime(listener.clock());
        process(p);
      }
    } finally {
      draining = false;
    }
    if (!closed && inbox.size() <= INBOX_LOW && !ctx.channel().config().isAutoRead() && ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  /** Takes ownership of {@code packet}. */
  private void process(MysqlPacket packet) {
    if (packet.sequenceId() != 0) {
      protocolError(1156, "Got packets out of order (a command must start with sequence id 0, got "
          + packet.sequenceId() + ")");
      packet.release();
      return;
    }
    int command = packet.header();
    switch (command) {
      case Mysql.COM_QUIT -> {
        packet.release();
        close();
      }
      case Mysql.COM_PING -> {
        packet.release();
        writeOk(1);
      }
      case Mysql.COM_QUERY -> query(packet);
      case Mysql.COM_INIT_DB -> initDb(packet);
      case Mysql.COM_STMT_PREPARE -> prepare(packet);
      case Mysql.COM_STMT_EXECUTE, Mysql.COM_STMT_SEND_LONG_DATA, Mysql.COM_STMT_FETCH, Mysql.COM_STMT_RESET ->
          statementCommand(packet, command);
      case Mysql.COM_STMT_CLOSE -> closeStatement(packet);
      case Mysql.COM_FIELD_LIST -> forward(job(command, packet, request(RequestKind.READ, "FIELD_LIST",
          "COM_FIELD_LIST", packet), null), ResponseReader.Shape.FIELD_LIST);
      case Mysql.COM_STATISTICS -> forward(job(command, packet, request(RequestKind.ADMIN, "STATISTICS",
          "COM_STATISTICS", packet), null), ResponseReader.Shape.SINGLE);
      case Mysql.COM_SET_OPTION -> forward(job(command, packet, request(RequestKind.SESSION, "SET_OPTION",
          "COM_SET_OPTION", packet), null), ResponseReader.Shape.SINGLE);
      case Mysql.COM_RESET_CONNECTION -> {
        packet.release();
        resetConnection(1);
      }
      case Mysql.COM_CHANGE_USER -> changeUser(packet);
      case Mysql.COM_PROCESS_KILL -> {
        long id = packet.length() >= 5 ? packet.payload().getUnsignedIntLE(packet.payload().readerIndex() + 1) : -1;
        packet.release();
        kill(id, false);
      }
      default -> {
        packet.release();
        writeErr(1, Mysql.ER_UNKNOWN_COM_ERROR, "mproxy: unknown or unsupported command 0x"
            + Integer.toHexString(Math.max(0, command)));
      }
    }
  }

  /**
   * COM_CHANGE_USER: the new user's proof is checked like a login's (against the greeting's
   * nonce, with an auth switch when the client used another plugin); on success the session
   * starts over as that user (re-classified, state reset as for COM_RESET_CONNECTION), on failure
   * the client gets the server's ERR and stays logged in as before.
   */
  private void changeUser(MysqlPacket packet) {
    if (passthrough) {
      packet.release();
      writeErr(1, Mysql.ER_NOT_SUPPORTED_YET, "mproxy: COM_CHANGE_USER is not supported on a passthrough listener;"
          + " reconnect as the other user");
      return;
    }
    ClientAuth next;
    try {
      next = ClientAuth.parseChangeUser(packet.payload(), caps, extCaps, variant.collation());
    } catch (IndexOutOfBoundsException e) {
      writeErr(1, Mysql.ER_UNKNOWN_COM_ERROR, "mproxy: malformed COM_CHANGE_USER packet");
      return;
    } finally {
      packet.release();
    }
    java.util.Optional<String> blocked = listener.authFailures().refusal(ctx.channel().remoteAddress());
    if (blocked.isPresent()) {
      writeErr(1, Mysql.ER_ACCESS_DENIED_ERROR, blocked.get());
      return;
    }
    previousAuth = auth;
    auth = next;
    phase = Phase.SWITCH;
    String plugin = next.plugin() == null ? Scrambles.NATIVE : next.plugin();
    if (!plugin.equals(options.authPlugin())) {
      ByteBuf p = Packets.start(ctx.alloc(), 1, 64);
      p.writeByte(Mysql.EOF);
      MysqlBuf.writeNulString(p, options.authPlugin());
      p.writeBytes(nonce).writeByte(0);
      writeAndFlush(Packets.finish(p));
      return;
    }
    verify(0, next.authResponse());
  }

  /** The new user of a COM_CHANGE_USER is authenticated: count it, re-classify, reset the session. */
  private void changedUser(int seq) {
    ClientAuth before = previousAuth;
    boolean sameUser = java.util.Objects.equals(before.user(), auth.user());
    if (!sameUser) {
      int max = options.maxConnectionsPerUser();
      if (!registry.tryAddUser(listenerName(), auth.user(), max)) {
        refuseLogin(seq, Mysql.ER_TOO_MANY_USER_CONNECTIONS, "mproxy: user '" + auth.user()
            + "' already has more than max_connections_per_user=" + max + " connections on listener "
            + listenerName());
        return;
      }
      if (userCounted) {
        registry.removeUser(listenerName(), before.user());
      }
      userCounted = true;
    }
    previousAuth = null;
    user = auth.user();
    application = auth.application() != null ? auth.application() : application;
    variant = Variant.of(caps, extCaps, auth.collation());
    phase = Phase.COMMANDS;
    LOG.debug("session {}: changed user from {} to {}", connectionId, before.user(), user);
    resetConnection(seq);
    drain();
  }

  private void query(MysqlPacket packet) {
    String sql = packet.payloadBuffer().toString(packet.payloadIndex() + 1, packet.length() - 1, StandardCharsets.UTF_8);
    StatementInspector.Info info = StatementInspector.inspect(sql);
    SessionEffect effect = info.effect();
    if (effect.killId() >= 0) {
      packet.release();
      kill(effect.killId(), effect.killQuery());
      return;
    }
    if (info.statements() > 1 && (caps & Mysql.CLIENT_MULTI_STATEMENTS) == 0) {
      packet.release();
      writeErr(1, 1064, "You have an error in your SQL syntax; the client did not enable multi-statements"
          + " (CLIENT_MULTI_STATEMENTS), so one COM_QUERY runs one statement");
      return;
    }
    String rewritten = SessionFunctions.rewrite(sql, new SessionFunctions.Values(connectionId, lastInsertId, rowCount),
        info.statements() == 1);
    Request request = request(info.kind(), info.verb(), info.fingerprint(), packet).hints(hints(sql));
    if (rewritten != null) {
      byte[] text = rewritten.getBytes(StandardCharsets.UTF_8);
      ByteBuf payload = ctx.alloc().buffer(1 + text.length).writeByte(Mysql.COM_QUERY).writeBytes(text);
      packet.release();
      packet = MysqlPacket.frame(ctx.alloc(), 0, payload);
    }
    Job job = job(Mysql.COM_QUERY, packet, request, info);
    job.calcFoundRows = SessionFunctions.containsIgnoreCase(sql, "SQL_CALC_FOUND_ROWS");
    forward(job, ResponseReader.Shape.RESULTS);
  }

  private void initDb(MysqlPacket packet) {
    String db = packet.payloadBuffer().toString(packet.payloadIndex() + 1, packet.length() - 1, StandardCharsets.UTF_8);
    Job job = job(Mysql.COM_INIT_DB, packet, request(RequestKind.SESSION, "INIT_DB", "COM_INIT_DB", packet), null);
    job.initDb = db;
    forward(job, ResponseReader.Shape.SINGLE);
  }

  private void prepare(MysqlPacket packet) {
    if (statements.size() >= MAX_STATEMENTS) {
      packet.release();
      writeErr(1, 1461, "mproxy: more than " + MAX_STATEMENTS + " prepared statements on one connection");
      return;
    }
    String sql = packet.payloadBuffer().toString(packet.payloadIndex() + 1, packet.length() - 1, StandardCharsets.UTF_8);
    StatementInspector.Info info = StatementInspector.inspect(sql);
    Job job = job(Mysql.COM_STMT_PREPARE, packet, request(RequestKind.READ, "PREPARE", info.fingerprint(),
        packet).hints(hints(sql)), info);
    job.prepareSql = sql;
    job.logicalId = ++nextStatementId;
    forward(job, ResponseReader.Shape.PREPARE);
  }

  private ClientStatement lookup(MysqlPacket packet) {
    if (packet.length() < 5) {
      return null;
    }
    long id = packet.payloadBuffer().getUnsignedIntLE(packet.payloadIndex() + 1);
    if (id == 0xFFFF_FFFFL) {
      id = lastPrepared;
    }
    return statements.get(id);
  }

  private void statementCommand(MysqlPacket packet, int command) {
    ClientStatement stmt = lookup(packet);
    if (stmt == null) {
      long id = packet.length() >= 5 ? packet.payload().getUnsignedIntLE(packet.payload().readerIndex() + 1) : -1;
      packet.release();
      if (command != Mysql.COM_STMT_SEND_LONG_DATA) {
        writeErr(1, Mysql.ER_UNKNOWN_STMT_HANDLER, "Unknown prepared statement handler (" + id + ") given to "
            + commandName(command));
      }
      return;
    }
    if (command == Mysql.COM_STMT_RESET && (lease == null || backend().statement(stmt.sql) == null)) {
      packet.release();
      longDataPending = false;
      writeOk(1);
      return;
    }
    if (command == Mysql.COM_STMT_FETCH && (lease == null || backend().statement(stmt.sql) == null)) {
      packet.release();
      writeErr(1, 1421, "mproxy: the statement has no open cursor");
      return;
    }
    StatementInspector.Info info = stmt.info;
    RequestKind kind = command == Mysql.COM_STMT_EXECUTE || command == Mysql.COM_STMT_FETCH ? info.kind() : RequestKind.SESSION;
    Job job = job(command, packet, request(kind, info.verb(), info.fingerprint(), packet).hints(stmt.hints), info);
    job.stmt = stmt;
    ResponseReader.Shape shape = switch (command) {
      case Mysql.COM_STMT_EXECUTE -> ResponseReader.Shape.RESULTS;
      case Mysql.COM_STMT_FETCH -> ResponseReader.Shape.ROWS;
      case Mysql.COM_STMT_RESET -> ResponseReader.Shape.SINGLE;
      default -> null;
    };
    forward(job, shape);
  }

  private static String commandName(int command) {
    return switch (command) {
      case Mysql.COM_STMT_EXECUTE -> "mysqld_stmt_execute";
      case Mysql.COM_STMT_FETCH -> "mysqld_stmt_fetch";
      case Mysql.COM_STMT_RESET -> "mysqld_stmt_reset";
      default -> "mysqld_stmt_send_long_data";
    };
  }

  private void closeStatement(MysqlPacket packet) {
    ClientStatement stmt = lookup(packet);
    packet.release();
    if (stmt != null) {
      statements.remove(stmt.id);
    }
  }

  // ================================================================ the core chain

  /** The job for the next command: the session's spare one when it has it, else a new one. */
  private Job job(int command, MysqlPacket packet, Request request, StatementInspector.Info info) {
    Job j = spare;
    if (j == null) {
      j = new Job();
    } else {
      spare = null;
    }
    return j.start(command, packet, request, info);
  }

  /**
   * Keeps {@code job} for the next command. Only a job that ended with its whole answer read and
   * no timeout: a timed-out one still has a kill-grace timer that refers to it, and a job ended
   * otherwise may still be in a backend connection's queue.
   */
  private void recycle(Job job) {
    if (job.responseDone && !job.timedOut && !job.killInFlight && job.batch == null) {
      job.packet = null;
      job.request = null;
      job.ticket = null;
      job.conn = null;
      job.stmt = null;
      job.backendStatement = null;
      job.serverStatement = null;
      job.inject = null;
      spare = job;
    }
  }

  private Request request(RequestKind kind, String verb, String fingerprint, MysqlPacket packet) {
    return new Request(identity(), kind, verb, fingerprint, packet.length(), ReadBatch.nanoTime(listener.clock()), true);
  }

  /** The leading {@code mproxy:} / {@code RESOURCE_GROUP} hints of a COM_QUERY or prepared statement's text. */
  private static io.mproxy.core.hint.QueryHints hints(String sql) {
    return io.mproxy.core.hint.HintParser.fromSql(io.mproxy.core.sql.SqlDialect.MYSQL, sql);
  }

  /** Admits {@code job} and runs it on a backend connection; {@code shape} null: no answer expected. */
  private void forward(Job job, ResponseReader.Shape shape) {
    busy = true;
    current = job;
    boolean deprecateEof = (caps & Mysql.CLIENT_DEPRECATE_EOF) != 0;
    boolean cacheMetadata = variant.cacheMetadata();
    job.reader = shape == null ? null : forwardReader.reset(shape, deprecateEof, cacheMetadata);
    if (cacheMetadata && (job.command == Mysql.COM_STMT_PREPARE || job.command == Mysql.COM_STMT_EXECUTE)) {
      // a prepare's columns, and an execute's when the server sends them (rare once cached)
      job.reader.captureMetadata();
    }
    io.mproxy.core.admission.Gateway gateway = listener.gateway();
    gateway.admit(job.request, classification(), listener.origin(), listener.cluster().weights(),
        scheduler, job, ReadBatch.nanoTime(gateway.clock()));
  }

  private static int refusalCode(Refusal refusal) {
    if (refusal.outcome() == Outcome.TIMEOUT) {
      return Mysql.ER_QUERY_TIMEOUT;
    }
    return switch (refusal.reason()) {
      case RU_LIMIT, QUEUE_FULL, CODEL, RUNAWAY -> Mysql.ER_USER_LIMIT_REACHED;
      default -> Mysql.ER_UNKNOWN_ERROR;
    };
  }

  private void withConnection(Job job) {
    if (lease != null && lease.usable()) {
      job.conn = lease;
      sync(job);
      return;
    }
    if (lease != null) {
      dropLease(false);
      if (stateful()) {
        failJob(job, "the backend connection holding this session's state was lost", true);
        return;
      }
    }
    Cluster cluster = listener.cluster();
    Backend backend = cluster.select(job.request);
    if (backend == null && cluster.circuitsOpen()) {
      Refusal refusal = job.ticket.refuse(io.mproxy.core.request.ShedReason.CIRCUIT_OPEN,
          cluster.circuitRetryAfterMs(), "every backend's circuit is open");
      job.releasePacket();
      if (!closed && job.reader != null && refusal != null) {
        writeErr(1, refusalCode(refusal), refusal.message());
      }
      endJob(job);
      return;
    }
    if (backend == null) {
      failJob(job, "no backend of cluster " + cluster.name() + " is available", false);
      return;
    }
    leaseWait.job = job;
    cluster.pool(backend, variant.key()).acquire(true, (EventLoop) ctx.executor(), leaseWait);
  }

  /**
   * The pool's answer for the command waiting for a connection. A session runs one command at a
   * time and that command waits until the pool answers, so one instance serves every lease.
   */
  private final class LeaseWait implements BackendPool.Lease {
    Job job;

    @Override
    public void granted(PooledConnection connection) {
      Job j = job;
      job = null;
      if (closed || j == null) {
        connection.pool().release(connection, true);
        if (j != null) {
          j.releasePacket();
          j.ticket.complete(Outcome.ERROR, 0);
          endJob(j);
        }
        return;
      }
      takeLease(connection);
      j.conn = connection;
      sync(j);
    }

    @Override
    public void failed(Throwable cause) {
      Job j = job;
      job = null;
      if (j == null) {
        return;
      }
      j.releasePacket();
      j.ticket.complete(Outcome.REJECTED, 0);
      if (!closed) {
        String why = cause instanceof PoolException pe ? pe.reason() : String.valueOf(cause.getMessage());
        writeErr(1, Mysql.ER_CON_COUNT_ERROR, "mproxy: rejected group=" + j.ticket.group()
            + " reason=no_backend_connection (" + why + ")");
      }
      endJob(j);
    }
  }

  private void takeLease(PooledConnection connection) {
    lease = connection;
    MysqlBackend be = connection.attachment();
    be.holder = this;
    if (!be.closeWatched) {
      // once per backend connection, not per lease: transaction pooling leases it for every command
      be.closeWatched = true;
      connection.channel().closeFuture().addListener(f -> {
        MysqlSession holder = be.holder;
        if (holder != null) {
          holder.ctx.executor().execute(() -> holder.onLeaseClosed(connection));
        }
      });
    }
  }

  /** The lease ends: the connection's close no longer concerns this session. */
  private static void unwatch(PooledConnection conn, MysqlSession session) {
    MysqlBackend be = conn.attachment();
    if (be.holder == session) {
      be.holder = null;
    }
  }

  private MysqlBackend backend() {
    return lease.attachment();
  }

  // ================================================================ bringing the connection to the session's state

  private void sync(Job job) {
    MysqlBackend be = job.conn.attachment();
    if (!be.toClose.isEmpty()) {
      for (long id : be.toClose) {
        ByteBuf close = Packets.command(ctx.alloc(), Mysql.COM_STMT_CLOSE, intLe(id));
        be.handler.send(close, null);
      }
      be.toClose.clear();
    }
    List<String> want = assignments.isEmpty() ? List.of() : new ArrayList<>(assignments.values());
    if (!isPrefix(be.assignments, want)) {
      internal(job, Packets.command(ctx.alloc(), Mysql.COM_RESET_CONNECTION, new byte[0]),
          ResponseReader.Shape.SINGLE, r -> be.resetDone());
      return;
    }
    if (schema != null && !schema.equals(be.schema)) {
      String target = schema;
      internal(job, Packets.command(ctx.alloc(), Mysql.COM_INIT_DB, target.getBytes(StandardCharsets.UTF_8)),
          ResponseReader.Shape.SINGLE, r -> be.schema = target);
      return;
    }
    if (be.assignments.size() < want.size()) {
      String sql = want.get(be.assignments.size());
      internal(job, Packets.query(ctx.alloc(), sql), ResponseReader.Shape.RESULTS, r -> be.assignments.add(sql));
      return;
    }
    if (job.stmt != null) {
      // one look-up per command (the cache is in access order): dispatch sends with what it found
      MysqlBackend.Statement bs = be.statement(job.stmt.sql);
      if (bs == null) {
        String sql = job.stmt.sql;
        internal(job, Packets.command(ctx.alloc(), Mysql.COM_STMT_PREPARE, sql.getBytes(StandardCharsets.UTF_8)),
            ResponseReader.Shape.PREPARE, r -> be.remember(sql, r.statementId(), r.metadata()));
        return;
      }
      job.serverStatement = bs;
    }
    dispatch(job);
  }

  private static boolean isPrefix(List<String> have, List<String> want) {
    if (have.size() > want.size()) {
      return false;
    }
    for (int i = 0; i < have.size(); i++) {
      if (!have.get(i).equals(want.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** Sends a command of the proxy's own before {@code job}; on success applies it and syncs on. */
  private void internal(Job job, ByteBuf command, ResponseReader.Shape shape,
      java.util.function.Consumer<ResponseReader> applied) {
    MysqlBackend be = job.conn.attachment();
    EventExecutor loop = ctx.executor();
    ResponseReader answer = new ResponseReader(shape, be.variant.deprecateEof(), be.cacheMetadata);
    if (be.cacheMetadata && shape == ResponseReader.Shape.PREPARE) {
      answer.captureMetadata();
    }
    be.handler.send(command, InternalExchange.of(answer,
        (reader, error) -> loop.execute(() -> {
          if (error != null) {
            failJob(job, "could not restore the session state on the backend connection: " + error, true);
            return;
          }
          applied.accept(reader);
          if (closed) {
            job.releasePacket();
            job.ticket.complete(Outcome.ERROR, 0);
            endJob(job);
            return;
          }
          sync(job);
        }),
        cause -> loop.execute(() -> failJob(job, "lost the backend connection: " + cause, true))));
  }

  // ================================================================ forwarding

  private void dispatch(Job job) {
    MysqlBackend be = job.conn.attachment();
    ByteBuf out = outgoing(job, be);
    job.ticket.dispatched(job.conn.backend(), ReadBatch.nanoTime(listener.gateway().clock()));
    // a runaway cancel rule stops the statement the way a client's KILL QUERY does
    job.ticket.onCancel(job);
    if (job.reader == null) {
      be.handler.send(out, null);
      if (job.command == Mysql.COM_STMT_SEND_LONG_DATA) {
        longDataPending = true;
      }
      job.ticket.complete(Outcome.OK, 0);
      endJob(job);
      return;
    }
    long timeout = timeoutMs(job);
    if (timeout > 0 && (job.command == Mysql.COM_QUERY || job.command == Mysql.COM_STMT_EXECUTE
        || job.command == Mysql.COM_STMT_FETCH)) {
      job.timer = scheduler.schedule(() -> onQueryTimeout(job), TimeUnit.MILLISECONDS.toNanos(timeout));
    }
    job.expectAnswerOn(job.conn);
    be.handler.send(out, job);
  }

  /** The listener's query_timeout_ms, or the request's hinted timeout_ms when that ends sooner. */
  private long timeoutMs(Job job) {
    long timeout = options.queryTimeoutMs();
    long deadline = job.request.deadlineNanos();
    if (deadline == 0) {
      return timeout;
    }
    long hinted = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - ReadBatch.nanoTime(listener.clock())));
    return timeout > 0 ? Math.min(timeout, hinted) : hinted;
  }

  /** The bytes to send for {@code job}: the client's packet, with statement ids (and types) fixed. */
  private ByteBuf outgoing(Job job, MysqlBackend be) {
    MysqlPacket packet = job.packet;
    job.packet = null;
    if (job.stmt == null) {
      return packet.takeRaw();
    }
    MysqlBackend.Statement bs = job.serverStatement;
    if (job.command == Mysql.COM_STMT_EXECUTE && be.cacheMetadata) {
      job.backendStatement = bs;
      if (bs.meta != null && !bs.meta.equals(job.stmt.meta)) {
        job.inject = bs.meta;
      }
    }
    if (job.command == Mysql.COM_STMT_EXECUTE) {
      ByteBuf rebuilt = executeWithTypes(job.stmt, bs, packet);
      if (rebuilt != null) {
        packet.release();
        return rebuilt;
      }
    }
    packet.payloadBuffer().setIntLE(packet.payloadIndex() + 1, (int) bs.id);
    return packet.takeRaw();
  }

  /**
   * Remembers the parameter types a COM_STMT_EXECUTE binds, and when it binds none but the backend
   * statement last saw other types (another client's, or none: re-prepared on this connection),
   * returns the packet rebuilt with this client's; else null (send as is, with the id rewritten).
   */
  private ByteBuf executeWithTypes(ClientStatement stmt, MysqlBackend.Statement bs, MysqlPacket packet) {
    int n = stmt.params;
    if (n == 0) {
      return null;
    }
    ByteBuf p = packet.payloadBuffer();
    int at = packet.payloadIndex();
    int len = packet.length();
    int nullMap = (n + 7) / 8;
    int flagAt = at + 10 + nullMap;
    if (len < 10 + nullMap + 1) {
      return null;
    }
    boolean bound = p.getByte(flagAt) == 1;
    if (bound) {
      if (len >= 10 + nullMap + 1 + 2 * n) {
        if (stmt.types == null || !typesEqual(stmt.types, p, flagAt + 1)) {
          byte[] types = new byte[2 * n];
          p.getBytes(flagAt + 1, types);
          stmt.types = types;
        }
        bs.types = stmt.types;
      }
      return null;
    }
    if (stmt.types == null || java.util.Arrays.equals(bs.types, stmt.types)) {
      return null;
    }
    ByteBuf payload = ctx.alloc().buffer(len + stmt.types.length);
    payload.writeBytes(p, at, 10 + nullMap);
    payload.setIntLE(1, (int) bs.id);
    payload.writeByte(1).writeBytes(stmt.types);
    payload.writeBytes(p, flagAt + 1, len - (10 + nullMap + 1));
    bs.types = stmt.types;
    return MysqlPacket.frame(ctx.alloc(), 0, payload).takeRaw();
  }

  private static boolean typesEqual(byte[] types, ByteBuf p, int from) {
    for (int i = 0; i < types.length; i++) {
      if (p.getByte(from + i) != types[i]) {
        return false;
      }
    }
    return true;
  }

  private void onBackendData(Job job, List<ByteBuf> bufs, boolean done) {
    // indexed: an iterator per answer even over the empty list of the same-loop case
    for (int i = 0; i < bufs.size(); i++) {
      if (closed) {
        bufs.get(i).release();
      } else {
        out.write(bufs.get(i));
      }
    }
    if (done) {
      job.responseDone = true;
      if (job.timedOut && !closed) {
        out.write(Packets.err(ctx.alloc(), (job.lastForwardedSeq + 1) & 0xFF, Mysql.ER_QUERY_TIMEOUT,
            "mproxy: timeout group=" + job.ticket.group() + " reason=query_timeout (" + timeoutSetting(job)
                + ", the statement was stopped with KILL QUERY)"));
      }
    }
    if (!closed) {
      out.flush();
      if (!ctx.channel().isWritable() && job.conn != null) {
        job.conn.channel().config().setAutoRead(false);
      }
    }
    if (done) {
      maybeFinish(job);
    }
  }

  private void maybeFinish(Job job) {
    if (job != current || !job.responseDone || job.killInFlight) {
      return;
    }
    if (job.timer != null) {
      job.timer.cancel();
    }
    ResponseReader r = job.reader;
    boolean ok = r.errorCode() < 0 && !job.timedOut;
    if (r.status() >= 0) {
      status = r.status();
    }
    if (ok) {
      applyEffects(job, r);
    }
    if (job.command == Mysql.COM_QUERY || job.command == Mysql.COM_STMT_EXECUTE) {
      if (r.lastInsertId() != 0) {
        lastInsertId = r.lastInsertId();
      }
      rowCount = ok ? r.rowCount() : -1;
    }
    if (job.backendStatement != null) {
      trackMetadata(job, r);
    }
    holdNext = ok && job.calcFoundRows;
    if (r.status() >= 0 && (r.status() & Mysql.SERVER_STATUS_CURSOR_EXISTS) != 0) {
      pin("open cursor");
    }
    Outcome outcome = job.timedOut ? Outcome.TIMEOUT : ok ? Outcome.OK : Outcome.ERROR;
    job.ticket.complete(outcome, job.request.bytesIn(), job.bytesOut, ReadBatch.nanoTime(listener.gateway().clock()));
    recycle(job);
    endJob(job);
  }

  /**
   * Metadata caching: after an execute, the server's idea of what the connection has for the
   * statement and the client's. Column definitions in the answer were seen by both; definitions
   * the proxy put in are now the client's; a client that may have missed part of the answer
   * (timed out) has unknown metadata, so the next answer that skips them gets them put in.
   */
  private void trackMetadata(Job job, ResponseReader r) {
    io.mproxy.protocol.mysql.codec.ColumnMetadata sent = r.metadata();
    if (sent != null) {
      job.backendStatement.meta = sent;
    }
    if (job.timedOut) {
      job.stmt.meta = null;
    } else if (sent != null) {
      job.stmt.meta = sent;
    } else if (job.injected) {
      job.stmt.meta = job.inject;
    }
  }

  private void applyEffects(Job job, ResponseReader r) {
    MysqlBackend be = job.conn.attachment();
    switch (job.command) {
      case Mysql.COM_QUERY -> {
        SessionEffect e = job.info.effect();
        if (e.pinReason() != null) {
          pin(e.pinReason());
        }
        if (!e.assignments().isEmpty()) {
          for (SessionEffect.Assignment a : e.assignments()) {
            assignments.remove(a.key());
            assignments.put(a.key(), a.sql());
          }
          be.assignments.clear();
          be.assignments.addAll(assignments.values());
          if (assignments.size() > MAX_ASSIGNMENTS) {
            pin("more than " + MAX_ASSIGNMENTS + " session variables");
          }
        }
        if (e.schema() != null) {
          schema = e.schema();
          be.schema = schema;
          identityChanged();
        }
      }
      case Mysql.COM_INIT_DB -> {
        schema = job.initDb;
        be.schema = schema;
        identityChanged();
      }
      case Mysql.COM_STMT_PREPARE -> {
        ClientStatement s = new ClientStatement(job.logicalId, job.prepareSql, job.info);
        s.params = r.prepareParams();
        statements.put(s.id, s);
        lastPrepared = s.id;
        s.meta = r.metadata();
        be.remember(job.prepareSql, r.statementId(), r.metadata());
      }
      case Mysql.COM_STMT_EXECUTE, Mysql.COM_STMT_RESET -> longDataPending = false;
      case Mysql.COM_SET_OPTION -> pin("COM_SET_OPTION");
      default -> {
      }
    }
  }

  private void onBackendFailed(Job job, Throwable cause) {
    if (job != current) {
      return;
    }
    if (job.stmt != null) {
      job.stmt.meta = null;   // part of an answer may have reached the client
    }
    if (job.timer != null) {
      job.timer.cancel();
    }
    job.ticket.complete(job.timedOut ? Outcome.TIMEOUT : Outcome.ERROR, job.bytesOut);
    boolean lostState = stateful();
    if (lease == job.conn) {
      dropLease(false);
    }
    if (!closed) {
      int code = job.timedOut ? Mysql.ER_QUERY_TIMEOUT : Mysql.ER_UNKNOWN_ERROR;
      writeErr((job.lastForwardedSeq + 1) & 0xFF, code, "mproxy: error group=" + job.ticket.group()
          + " reason=backend_unavailable (lost the backend connection during the command: " + cause + ")");
      if (lostState || job.lastForwardedSeq > 0) {
        close();
      }
    }
    endJob(job);
  }

  /** Ends {@code job} with an ERR (seq 1) before anything was forwarded. */
  private void failJob(Job job, String why, boolean connectionSuspect) {
    job.releasePacket();
    if (job.timer != null) {
      job.timer.cancel();
    }
    job.ticket.complete(Outcome.ERROR, 0);
    boolean lostState = stateful();
    if (connectionSuspect && lease != null) {
      dropLease(false);
    }
    if (!closed) {
      writeErr(1, Mysql.ER_UNKNOWN_ERROR, "mproxy: error group=" + job.ticket.group() + " reason=backend_unavailable ("
          + why + ")");
      if (connectionSuspect && lostState) {
        close();
      }
    }
    endJob(job);
  }

  private void endJob(Job job) {
    if (current == job) {
      current = null;
    }
    busy = false;
    lastActivity = ReadBatch.nanoTime(listener.clock());
    if (closed) {
      releaseOnClose();
      return;
    }
    maybeRelease();
    drain();
  }

  // ================================================================ timeouts and KILL

  private String timeoutSetting(Job job) {
    long hinted = job.request.hints().timeoutMs();
    return job.request.deadlineNanos() != 0 && (options.queryTimeoutMs() <= 0 || hinted < options.queryTimeoutMs())
        ? "timeout_ms=" + hinted : "query_timeout_ms=" + options.queryTimeoutMs();
  }

  private void onQueryTimeout(Job job) {
    if (job != current || job.responseDone || closed || job.conn == null) {
      return;
    }
    job.timedOut = true;
    if (job.request.deadlineNanos() != 0) {
      listener.gateway().telemetry().hintTimeout(job.ticket.group());
    }
    sendKill(job);
    scheduler.schedule(() -> {
      if (current == job && !job.responseDone) {
        job.conn.channel().close();
      }
    }, KILL_GRACE_NANOS);
  }

  /** KILL QUERY on a side connection; the job does not finish before the kill did (no stray kill). */
  private void sendKill(Job job) {
    if (job.killInFlight) {
      return;
    }
    job.killInFlight = true;
    connector().killQuery(job.conn, () -> ctx.executor().execute(() -> {
      job.killInFlight = false;
      maybeFinish(job);
    }));
  }

  /** Stops this session's running statement (another client's KILL QUERY); true when one ran. */
  boolean killRunningQuery() {
    Job job = current;
    if (job == null || job.conn == null || job.responseDone || job.reader == null || job.ticket == null) {
      return false;
    }
    sendKill(job);
    return true;
  }

  private void kill(long id, boolean queryOnly) {
    MysqlSession target = registry.find(id);
    if (target == null) {
      writeErr(1, Mysql.ER_NO_SUCH_THREAD, "Unknown thread id: " + id);
      return;
    }
    if (target != this && !(java.util.Objects.equals(target.user(), user)
        && target.listenerName().equals(listenerName()))) {
      writeErr(1, Mysql.ER_KILL_DENIED_ERROR, "You are not owner of thread " + id);
      return;
    }
    if (target == this) {
      if (queryOnly) {
        writeOk(1);
      } else {
        close();
      }
      return;
    }
    target.ctx.executor().execute(() -> {
      target.killRunningQuery();
      if (!queryOnly) {
        target.close();
      }
    });
    writeOk(1);
  }

  // ================================================================ pooling

  private boolean stateful() {
    return pinReason != null || (status & Mysql.SERVER_STATUS_IN_TRANS) != 0 || longDataPending;
  }

  private void pin(String reason) {
    if (pinReason == null) {
      pinReason = reason;
      LOG.debug("session {}: pinned to its backend connection ({})", connectionId, reason);
    }
  }

  private void maybeRelease() {
    if (lease == null || busy || !MysqlProtocolAdapter.transactionPooling(listener.cluster().config())
        || stateful() || holdNext) {
      return;
    }
    dropLease(true);
  }

  private void dropLease(boolean reusable) {
    PooledConnection conn = lease;
    lease = null;
    unwatch(conn, this);
    resumeReading(conn.channel());
    conn.pool().release(conn, reusable && conn.usable());
  }

  /**
   * Lets the next holder of a backend connection read from it again (writability may have paused
   * it): a volatile read when it was not paused, rather than the setter's atomic exchange per
   * release.
   */
  private static void resumeReading(io.netty.channel.Channel backendChannel) {
    if (!backendChannel.config().isAutoRead()) {
      backendChannel.config().setAutoRead(true);
    }
  }

  private void onLeaseClosed(PooledConnection conn) {
    if (lease != conn || busy) {
      return;
    }
    boolean lostState = stateful();
    dropLease(false);
    if (lostState && !closed) {
      LOG.debug("session {}: backend connection with session state lost; closing the client", connectionId);
      close();
    }
  }

  /** The client is gone: give the connection back, resetting it first when it carries session state. */
  private void releaseOnClose() {
    if (lease == null || busy) {
      return;
    }
    if (passthrough) {
      dropLease(false);
      return;
    }
    if (!stateful()) {
      dropLease(true);
      return;
    }
    PooledConnection conn = lease;
    lease = null;
    unwatch(conn, this);
    MysqlBackend be = conn.attachment();
    be.handler.send(Packets.command(conn.channel().alloc(), Mysql.COM_RESET_CONNECTION, new byte[0]),
        InternalExchange.of(new ResponseReader(ResponseReader.Shape.SINGLE, be.variant.deprecateEof(), be.cacheMetadata),
            (r, error) -> {
              if (error == null) {
                be.resetDone();
              }
              conn.pool().release(conn, error == null);
            },
            cause -> conn.pool().release(conn, false)));
  }

  /**
   * COM_RESET_CONNECTION (and a successful COM_CHANGE_USER): the session starts over (statements,
   * variables, pins, schema from the login) without logging in again; OK at {@code okSeq}.
   */
  private void resetConnection(int okSeq) {
    statements.clear();
    assignments.clear();
    pinReason = passthrough ? PASSTHROUGH_PIN : null;
    longDataPending = false;
    holdNext = false;
    lastInsertId = 0;
    rowCount = -1;
    lastPrepared = -1;
    schema = auth.database();
    status = Mysql.SERVER_STATUS_AUTOCOMMIT;
    identityChanged();
    if (lease == null) {
      writeOk(okSeq);
      return;
    }
    busy = true;
    PooledConnection conn = lease;
    MysqlBackend be = conn.attachment();
    EventExecutor loop = ctx.executor();
    be.handler.send(Packets.command(ctx.alloc(), Mysql.COM_RESET_CONNECTION, new byte[0]),
        InternalExchange.of(new ResponseReader(ResponseReader.Shape.SINGLE, be.variant.deprecateEof(), be.cacheMetadata),
            (r, error) -> loop.execute(() -> {
              if (error == null) {
                be.resetDone();
              }
              if (lease == conn && !passthrough) {
                dropLease(error == null);
              }
              if (!closed) {
                writeOk(okSeq);
              }
              busy = false;
              drain();
            }),
            cause -> loop.execute(() -> {
              if (lease == conn) {
                dropLease(false);
              }
              if (passthrough) {
                close();
              } else if (!closed) {
                writeOk(okSeq);
              }
              busy = false;
              drain();
            })));
  }

  // ================================================================ identity

  private TenantIdentity identity() {
    TenantIdentity t = tenant;
    if (t == null) {
      t = new TenantIdentity(listenerName(), user, schema, application);
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

  private MysqlBackendConnector connector() {
    return (MysqlBackendConnector) listener.cluster().connector();
  }

  // ================================================================ output and lifecycle

  private void writeOk(int seq) {
    if (closed) {
      return;
    }
    writeAndFlush(Packets.ok(ctx.alloc(), seq, 0, 0,
        status & (Mysql.SERVER_STATUS_AUTOCOMMIT | Mysql.SERVER_STATUS_IN_TRANS), 0, caps));
  }

  private void writeErr(int seq, int code, String message) {
    if (closed) {
      return;
    }
    writeAndFlush(Packets.err(ctx.alloc(), seq, code, message));
  }

  private void protocolError(int code, String message) {
    LOG.debug("session {}: protocol error: {}", connectionId, message);
    if (!closed) {
      out.writeGathered();
      ctx.writeAndFlush(Packets.err(ctx.alloc(), 0, code, "mproxy: " + message))
          .addListener(ChannelFutureListener.CLOSE);
    }
    phase = Phase.CLOSED;
    inbox.forEach(MysqlPacket::release);
    inbox.clear();
  }

  /** Closes the client connection once what was written is flushed. */
  void close() {
    if (closed) {
      return;
    }
    phase = Phase.CLOSED;
    out.writeGathered();
    ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void armWaitTimer(long delayMs) {
    if (options.waitTimeoutMs() <= 0) {
      return;
    }
    waitTimer = scheduler.schedule(this::onWaitTimer, TimeUnit.MILLISECONDS.toNanos(Math.max(1, delayMs)));
  }

  private void onWaitTimer() {
    if (closed) {
      return;
    }
    long waitNanos = TimeUnit.MILLISECONDS.toNanos(options.waitTimeoutMs());
    long idle = listener.clock().nanoTime() - lastActivity;
    if (busy || !inbox.isEmpty() || idle < waitNanos) {
      armWaitTimer(TimeUnit.NANOSECONDS.toMillis(busy ? waitNanos : waitNanos - idle));
      return;
    }
    LOG.debug("session {}: idle past wait_timeout_ms, closing", connectionId);
    out.writeGathered();
    ctx.writeAndFlush(Packets.err(ctx.alloc(), 0, Mysql.ER_CLIENT_INTERACTION_TIMEOUT,
        "mproxy: the client was disconnected by the server because of inactivity (wait_timeout_ms="
            + options.waitTimeoutMs() + ")")).addListener(ChannelFutureListener.CLOSE);
    phase = Phase.CLOSED;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext context) {
    if (context.channel().isWritable()) {
      if (lease != null) {
        lease.channel().config().setAutoRead(true);
      }
      drain();
    }
    context.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    if (cause instanceof MysqlCodecException e) {
      protocolError(e.errorCode(), e.getMessage());
      return;
    }
    if (cause instanceof DecoderException && cause.getCause() instanceof javax.net.ssl.SSLException) {
      LOG.debug("session {}: TLS: {}", connectionId, cause.getCause().toString());
      context.close();
      return;
    }
    LOG.debug("session {}: {}", connectionId, cause.toString());
    context.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    closed = true;
    phase = Phase.CLOSED;
    if (waitTimer != null) {
      waitTimer.cancel();
    }
    registry.unregister(connectionId, this);
    if (userCounted) {
      registry.removeUser(listenerName(), user);
      userCounted = false;
    }
    inbox.forEach(MysqlPacket::release);
    inbox.clear();
    if (deferred != null) {
      deferred.forEach(ByteBuf::release);
      deferred.clear();
    }
    framer.release();
    out.discard();
    releaseOnClose();
    context.fireChannelInactive();
  }

  /** Writes {@code bytes} (owned) after whatever this tick gathered, and flushes. */
  private void writeAndFlush(ByteBuf bytes) {
    out.write(bytes);
    out.flush();
  }

  private static byte[] intLe(long v) {
    return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
  }
}

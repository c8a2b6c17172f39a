package io.mproxy.protocol.postgres.codec;

import io.mproxy.core.time.ReadBatch;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits PostgreSQL wire bytes into messages. On the client side it starts in the start-up phase
 * (length-prefixed packets without a type byte, emitted as {@link StartupPacket}) until the
 * session calls {@link #typed()}; typed messages are emitted as retained slices holding the whole
 * message (type byte, length and body), so they can be forwarded untouched.
 *
 * <p>On the backend side, {@link #relayRuns(boolean)} lets consecutive messages that a client
 * session only relays (DataRow, RowDescription, CommandComplete, BindComplete…) come out as one
 * slice: a result of many rows is then one buffer to pass on, not one per row.
 *
 * <p>A length below 4 or above the limit, or an unknown start-up code, emits one
 * {@link PgDecodeError} and discards all further input: the session answers with an
 * ErrorResponse and closes. Oversized messages are refused from their header, before any of the
 * body is buffered.
 *
 * <p>Each read, and the end of a run of reads, is a {@link ReadBatch}: what the session does with
 * the messages of one read (arrival, admission, dispatch of a request on the client side; the
 * answer's completion, the lease's release and the next waiter's dispatch on the backend side)
 * takes one clock reading instead of one per step.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {

  /** PostgreSQL's own limit for a start-up packet. */
  public static final int MAX_STARTUP_BYTES = 10_000;

  private enum Phase { STARTUP, SSL_ANSWER, TYPED, FAILED }

  /** Backend message types a client session relays without looking inside: may share a slice. */
  private static final boolean[] RELAYED = new boolean[256];
  private static final byte READY_FOR_QUERY = 'Z';
  private static final byte PARSE_COMPLETE = '1';

  static {
    for (char t : new char[] {'D', 'T', 'C', '2', 'n', 't', 's', 'I', 'd', 'c'}) {
      RELAYED[t] = true;
    }
  }

  private final int maxMessageBytes;
  private Phase phase;
  /**
   * The last slice emitted, when it is a relayed run with the ReadyForQuery that ended it; valid
   * until the next decode, which happens only after that slice has been delivered.
   */
  private ByteBuf readyRun;
  /** Set by whoever holds the backend connection (possibly from another event loop). */
  private volatile boolean relayRuns;
  /** Set by whoever holds the backend connection: ParseComplete may join a relayed run too. */
  private volatile boolean relayParseComplete;

  private PgFrameDecoder(Phase phase, int maxMessageBytes) {
    this.phase = phase;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** For client connections: start-up packets first. */
  public static PgFrameDecoder forClient(int maxMessageBytes) {
    return new PgFrameDecoder(Phase.STARTUP, maxMessageBytes);
  }

  /** For backend connections: typed messages only. */
  public static PgFrameDecoder forBackend(int maxMessageBytes) {
    return new PgFrameDecoder(Phase.TYPED, maxMessageBytes);
  }

  /** After the start-up packet: every further message has a type byte. */
  public void typed() {
    if (phase != Phase.FAILED) {
      phase = Phase.TYPED;
    }
  }

  /**
   * Whether consecutive relay-only messages (see the class comment) are emitted as one slice:
   * for a reader that only forwards them, never for one that reads them one by one.
   */
  public void relayRuns(boolean on) {
    relayRuns = on;
  }

  /**
   * Whether {@code msg}, just delivered by this decoder, is a relayed run that ends with the
   * ReadyForQuery (six bytes: {@code 'Z'}, length 5, status) that followed it. A result and its
   * ReadyForQuery then take one slice and one delivery instead of two.
   */
  public boolean endsWithReady(Object msg) {
    return msg == readyRun && msg != null;
  }

  /**
   * Whether a ParseComplete may also join a relayed run (with {@link #relayRuns} on): for a
   * holder that has nothing to learn from the ParseCompletes still to come (every Parse it awaits
   * is of the unnamed statement, answered to the client as is), so that the extended protocol's
   * ParseComplete, BindComplete, rows, CommandComplete and ReadyForQuery take one slice instead
   * of two. Takes effect from the next read.
   */
  public void relayParseComplete(boolean on) {
    relayParseComplete = on;
  }

  /** Whether a backend message of this type may be part of a relayed run. */
  public static boolean relayedType(byte type) {
    return RELAYED[type & 0xff];
  }

  /** The next byte is the one-byte answer to an SSLRequest, emitted as a {@link SslAnswer}. */
  public void expectSslAnswer() {
    phase = Phase.SSL_ANSWER;
  }

  /** The server's answer to SSLRequest: {@code 'S'} or {@code 'N'} (anything else is an error). */
  public record SslAnswer(byte value) {
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    ReadBatch.begin();
    try {
      super.channelRead(ctx, msg); // decodes and delivers the messages synchronously
    } finally {
      ReadBatch.end();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    // a client session cuts and forwards its requests here, after the whole batch has arrived
    ReadBatch.begin();
    try {
      super.channelReadComplete(ctx);
    } finally {
      ReadBatch.end();
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    switch (phase) {
      case STARTUP -> decodeStartup(in, out);
      case SSL_ANSWER -> {
        if (in.isReadable()) {
          phase = Phase.TYPED;
          out.add(new SslAnswer(in.readByte()));
        }
      }
      case TYPED -> decodeTyped(in, out);
      case FAILED -> in.skipBytes(in.readableBytes());
      default -> throw new IllegalStateException(phase.name());
    }
  }

  private void decodeStartup(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 4) {
      return;
    }
    int start = in.readerIndex();
    int length = in.getInt(start);
    if (length < 8 || length > MAX_STARTUP_BYTES) {
      fail(in, out, "invalid length of startup packet: " + length);
      return;
    }
    if (in.readableBytes() < 8) {
      return;
    }
    int code = in.getInt(start + 4);
    if (code != StartupPacket.PROTOCOL_3_0 && code != StartupPacket.SSL_REQUEST
        && code != StartupPacket.GSSENC_REQUEST && code != StartupPacket.CANCEL_REQUEST) {
      fail(in, out, "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xFFFF)
          + ": server supports 3.0");
      return;
    }
    if (in.readableBytes() < length) {
      return;
    }
    in.skipBytes(8);
    out.add(new StartupPacket(code, in.readRetainedSlice(length - 8)));
    // Exactly one start-up packet is read per phase: the session decides what comes next
    // (typed messages, a TLS handshake, or another start-up packet after SSL/GSS refusal).
  }

  private void decodeTyped(ByteBuf in, List<Object> out) {
    readyRun = null;
    boolean runs = relayRuns;
    boolean parseInRuns = runs && relayParseComplete;
    int runStart = -1;
    int runEnd = -1;
    int at = in.readerIndex();
    int end = in.writerIndex();
    while (end - at >= 5) {
      byte type = in.getByte(at);
      int length = in.getInt(at + 1);
      if (length < 4) {
        flushRun(in, out, runStart, runEnd);
        fail(in, out, "invalid message length " + length + " for message type '" + printable(type) + "'");
        return;
      }
      if (length > maxMessageBytes - 1) {
        flushRun(in, out, runStart, runEnd);
        fail(in, out, "message of type '" + printable(type) + "' is " + (length + 1)
            + " bytes, over the limit of " + maxMessageBytes);
        return;
      }
      if (end - at < length + 1) {
        break;
      }
      int next = at + length + 1;
      if (runStart >= 0 && type == READY_FOR_QUERY && length == 5 && runs) {
        // the run and its ReadyForQuery in one slice; delivered before anything after it, so
        // that endsWithReady can tell it from the slices before it
        flushRun(in, out, runStart, next);
        readyRun = (ByteBuf) out.get(out.size() - 1);
        return;
      }
      if (runs && RELAYED[type & 0xff] || parseInRuns && type == PARSE_COMPLETE) {
        if (runStart < 0) {
          runStart = at;
        }
        runEnd = next;
      } else {
        flushRun(in, out, runStart, runEnd);
        runStart = -1;
        in.readerIndex(at);
        out.add(in.readRetainedSlice(length + 1));
      }
      at = next;
    }
    flushRun(in, out, runStart, runEnd);
  }

  /** Emits the pending run of relayed messages {@code [start, end)} as one slice. */
  private static void flushRun(ByteBuf in, List<Object> out, int start, int end) {
    if (start < 0) {
      return;
    }
    in.readerIndex(start);
    out.add(in.readRetainedSlice(end - start));
  }

  private void fail(ByteBuf in, List<Object> out, String message) {
    phase = Phase.FAILED;
    in.skipBytes(in.readableBytes());
    out.add(new PgDecodeError(message));
  }

  private static String printable(byte b) {
    return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }
}

package io.mproxy.protocol.redis.codec;

import io.mproxy.core.time.ReadBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a RESP byte stream into {@link RespFrame}s, one per complete top-level value, without
 * decoding what the proxy only forwards.
 *
 * <p>{@link Mode#REQUEST} reads what clients send: arrays of bulk strings and inline commands
 * (a line of words, quoted like {@code redis-cli} does, at most 64 KiB), which are re-encoded
 * as RESP arrays. {@link Mode#REPLY} reads what servers send: any RESP2 or RESP3 value, nested
 * to {@code maxDepth}, with RESP3 attributes kept in the frame of the value they precede.
 * Streamed RESP3 values ({@code $?}, {@code *?}) are refused.
 *
 * <p>The scan is resumable: an incomplete frame is never re-read from its start; the decoder
 * keeps its position and a stack of element counts still expected, and skips bulk payloads by
 * length. Every length is checked against {@code maxFrameBytes} as soon as its header is read,
 * before any payload is buffered. Bad input raises {@link RespCodecException}, after which the
 * decoder discards everything it is given.
 *
 * <p>Frames hold a retained slice of the cumulation buffer (inline commands: a new buffer), so
 * forwarding one copies nothing; whoever receives a frame releases it.
 *
 * <p>A reply decoder made by {@link #replyBoundaries} emits no frames: it tells its
 * {@link Boundaries} where each complete reply lies in the cumulation, and the receiver copies
 * the bytes (or keeps a retained slice) during the call. A proxy that forwards a reply to a
 * client whose turn it is copies it once into the client's outgoing buffer, and needs neither a
 * frame object nor a reference count per reply.
 */
public final class RespFrameDecoder extends ByteToMessageDecoder {

  /** Which side of the proxy the decoder reads. */
  public enum Mode {
    /** Commands from clients: arrays of bulk strings, or inline commands. */
    REQUEST,
    /** Replies and pushes from servers: any RESP2/RESP3 value. */
    REPLY
  }

  /**
   * Told where each complete reply lies, instead of receiving a frame. Called on the channel's
   * event loop, from inside {@link #decode}.
   */
  public interface Boundaries {
    /**
     * One complete top-level value occupies {@code length} bytes of {@code in} from absolute
     * index {@code index}. The bytes are valid during this call only (the decoder has already
     * moved its reader index past them): copy them, or keep {@code in.retainedSlice(index,
     * length)}. {@code type} and {@code attributed} are what {@link RespFrame#type()} and
     * {@link RespFrame#hasAttribute()} would say.
     */
    void reply(ByteBuf in, int index, int length, byte type, boolean attributed);
  }

  /**
   * Takes each command directly from inside {@link #decode}, instead of as a message. Called on
   * the channel's event loop.
   */
  public interface Commands {
    /**
     * One command. A borrowed frame ({@link RespFrame#isBorrowed()}) is valid during this call
     * only: take {@link RespFrame#keep()} to hold on to it. An inline command comes as an ordinary
     * frame, which the receiver owns.
     */
    void command(RespFrame command);
  }

  private enum State {
    /** No frame in progress. */
    FRAME_START,
    /** Looking for the end of a type line at {@code pos}. */
    LINE,
    /** Waiting for a bulk payload (and its CRLF) to end at {@code bulkEnd}. */
    BULK,
    /** Looking for the end of an inline command. */
    INLINE,
    /** After an error: everything is discarded. */
    BAD
  }

  public static final int DEFAULT_MAX_DEPTH = 128;
  public static final int DEFAULT_MAX_AGGREGATE_LENGTH = 1 << 24;
  /** Longest inline command line, as in Redis ({@code PROTO_INLINE_MAX_SIZE}). */
  public static final int MAX_INLINE_BYTES = 64 * 1024;

  private static final byte CR = '\r';
  private static final byte LF = '\n';
  /** A type byte, an optional sign, 19 digits and CRLF: the longest valid length line. */
  private static final int MAX_NUMBER_LINE = 1 + 1 + 19 + 2;
  private static final int MAX_DOUBLE_LINE = 1 + 64 + 2;
  /** Smallest encoded element: {@code $0\r\n\r\n} for commands, {@code _\r\n} for replies. */
  private static final int MIN_ARG_BYTES = 6;
  private static final int MIN_VALUE_BYTES = 3;
  /** Presize the cumulation for a bulk payload when more than this is still missing. */
  private static final int PRESIZE_THRESHOLD = 64 * 1024;

  private final Mode mode;
  /** Non-null: report reply boundaries to it instead of emitting frames. */
  private final Boundaries boundaries;
  /** Non-null: hand commands to it as the borrowed {@link #view} instead of emitting frames. */
  private final Commands commands;
  private final RespFrame view;
  private final int maxFrameBytes;
  private final int maxDepth;
  private final int maxAggregateLength;

  private State state = State.FRAME_START;
  /** Offset from the reader index of the next byte to interpret (a type byte or payload). */
  private int pos;
  /** Offset from which the search for the current line's LF resumes. */
  private int lineScan;
  /** Offset just past the CRLF that ends the current bulk payload. */
  private int bulkEnd;
  private int depth;
  private final long[] remaining;
  private final boolean[] attribute;
  private byte frameType;
  private boolean frameAttributed;
  private int argCount;
  private int argIndex;
  /** The current command's argument positions, interleaved: offset, length, offset, length… */
  private int[] args;
  /** Bytes examined while looking for line ends; bulk payloads are never examined. */
  private long scannedBytes;

  public RespFrameDecoder(Mode mode, int maxFrameBytes) {
    this(mode, maxFrameBytes, DEFAULT_MAX_DEPTH, DEFAULT_MAX_AGGREGATE_LENGTH);
  }

  /**
   * @param maxFrameBytes largest frame accepted, in bytes
   * @param maxDepth deepest nesting of aggregates accepted (a flat array is depth 1)
   * @param maxAggregateLength largest element count of one array, set, push or map (pairs)
   */
  public RespFrameDecoder(Mode mode, int maxFrameBytes, int maxDepth, int maxAggregateLength) {
    this(mode, maxFrameBytes, maxDepth, maxAggregateLength, null, null);
  }

  /**
   * A reply decoder that emits nothing and reports where each complete reply lies to
   * {@code boundaries}, with the same limits and errors as a {@link Mode#REPLY} decoder.
   */
  public static RespFrameDecoder replyBoundaries(int maxFrameBytes, Boundaries boundaries) {
    if (boundaries == null) {
      throw new NullPointerException("boundaries");
    }
    return new RespFrameDecoder(Mode.REPLY, maxFrameBytes, DEFAULT_MAX_DEPTH,
        DEFAULT_MAX_AGGREGATE_LENGTH, boundaries, null);
  }

  /**
   * A request decoder that emits nothing and hands each command to {@code commands} as a frame
   * borrowed from the cumulation (no slice, no frame object, no argument array of its own per
   * command), with the same limits and errors as a {@link Mode#REQUEST} decoder.
   */
  public static RespFrameDecoder borrowingCommands(int maxFrameBytes, Commands commands) {
    if (commands == null) {
      throw new NullPointerException("commands");
    }
    return new RespFrameDecoder(Mode.REQUEST, maxFrameBytes, DEFAULT_MAX_DEPTH,
        DEFAULT_MAX_AGGREGATE_LENGTH, null, commands);
  }

  private RespFrameDecoder(Mode mode, int maxFrameBytes, int maxDepth, int maxAggregateLength,
      Boundaries boundaries, Commands commands) {
    if (mode == null) {
      throw new NullPointerException("mode");
    }
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes: " + maxFrameBytes + " (expected: > 0)");
    }
    if (maxDepth <= 0) {
      throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: > 0)");
    }
    if (maxAggregateLength <= 0) {
      throw new IllegalArgumentException(
          "maxAggregateLength: " + maxAggregateLength + " (expected: > 0)");
    }
    this.mode = mode;
    this.boundaries = boundaries;
    this.commands = commands;
    this.view = commands == null ? null : RespFrame.borrowedView();
    this.maxFrameBytes = maxFrameBytes;
    this.maxDepth = mode == Mode.REQUEST ? 1 : maxDepth;
    this.maxAggregateLength = maxAggregateLength;
    this.remaining = new long[this.maxDepth];
    this.attribute = new boolean[this.maxDepth];
  }

  public Mode mode() {
    return mode;
  }

  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** Bytes examined so far while looking for line ends (for tests of resumability). */
  long scannedBytes() {
    return scannedBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (state == State.BAD) {
      in.skipBytes(in.readableBytes());
      return;
    }
    // what this read delivers (commands, replies) shares one clock reading
    ReadBatch.begin();
    try {
      decodeFrames(ctx, in, out);
    } catch (RespCodecException e) {
      state = State.BAD;
      args = null;
      in.skipBytes(in.readableBytes());
      throw e;
    } finally {
      ReadBatch.end();
    }
  }

  private void decodeFrames(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    for (;;) {
      int emitted = out.size();
      boolean progress;
      switch (state) {
        case FRAME_START:
          progress = in.isReadable();
          if (progress) {
            beginFrame(in);
          }
          break;
        case LINE:
          progress = readLine(in, out);
          break;
        case BULK:
          progress = readBulkEnd(in, out);
          break;
        case INLINE:
          progress = readInline(ctx, in, out);
          break;
        default:
          throw new IllegalStateException(state.name());
      }
      if (!progress || out.size() > emitted && isSingleDecode()) {
        return;
      }
    }
  }

  private void beginFrame(ByteBuf in) {
    pos = 0;
    lineScan = 0;
    depth = 0;
    frameType = 0;
    frameAttributed = false;
    argCount = 0;
    argIndex = 0;
    if (mode == Mode.REQUEST && in.getByte(in.readerIndex()) != '*') {
      state = State.INLINE;
    } else {
      state = State.LINE;
    }
  }

  // ---- type lines ----------------------------------------------------------------------------

  private boolean readLine(ByteBuf in, List<Object> out) {
    int readable = in.readableBytes();
    if (pos >= readable) {
      return false;
    }
    int base = in.readerIndex();
    if (lineScan == 0 && readable - pos >= Long.BYTES) {
      int done = readShortHeader(in, out, base, in.getLong(base + pos));
      if (done >= 0) {
        return done == 1;
      }
    }
    byte type = in.getByte(base + pos);
    long typeLimit = checkType(type);
    long limitEnd = Math.min(pos + typeLimit, maxFrameBytes);
    int searchEnd = (int) Math.min(readable, limitEnd);
    int from = Math.max(lineScan, pos + 1);
    int lf = -1;
    if (from < searchEnd) {
      lf = in.indexOf(base + from, base + searchEnd, LF);
      scannedBytes += (lf < 0 ? base + searchEnd : lf + 1) - (base + from);
    }
    if (lf < 0) {
      if (searchEnd == limitEnd) {
        throw limitEnd < pos + typeLimit ? frameTooLarge() : lineTooLong(type);
      }
      lineScan = searchEnd;
      return false;
    }
    lf -= base;
    if (lf - 1 <= pos || in.getByte(base + lf - 1) != CR) {
      throw new RespCodecException("expected CRLF after '" + printable(type) + "' line");
    }
    lineScan = 0;
    int lineEnd = lf + 1;
    noteValueType(type);
    return onLine(in, out, type, base + pos + 1, base + lf - 1, lineEnd);
  }

  /**
   * The common header lines, {@code $} or {@code *} with one to five digits and CRLF, from the
   * eight bytes {@code word} at {@code pos} (one bounds and liveness check instead of one per
   * byte): 1 when handled (the same state changes and errors as the byte-by-byte path), or -1 to
   * leave the line to that path (any other line, or one the frame limit would cut).
   */
  private int readShortHeader(ByteBuf in, List<Object> out, int base, long word) {
    byte type = (byte) (word >>> 56);
    if (type != '$' && type != '*') {
      return -1;
    }
    long length = 0;
    int k = 1;
    for (; k <= 5; k++) {
      int digit = ((int) (word >>> (56 - 8 * k)) & 0xff) - '0';
      if (digit < 0 || digit > 9) {
        break;
      }
      length = length * 10 + digit;
    }
    // bytes k and k + 1 must be CRLF (k <= 6, so both lie in the word)
    if (k == 1 || ((word >>> (48 - 8 * k)) & 0xffff) != 0x0d0a) {
      return -1;
    }
    int lineEnd = pos + k + 2;
    if (lineEnd > maxFrameBytes) {
      return -1;
    }
    checkType(type);
    scannedBytes += k + 1;
    noteValueType(type);
    boolean progress = type == '$'
        ? onBulkLength(in, out, type, length, lineEnd)
        : onAggregateLength(in, out, type, length, lineEnd);
    return progress ? 1 : 0;
  }

  /** Fails fast on a type byte that cannot start a value here; returns the longest line for it. */
  private long checkType(byte type) {
    if (mode == Mode.REQUEST) {
      if (depth == 0 || type == '$') {
        return MAX_NUMBER_LINE;
      }
      throw new RespCodecException("expected '$', got '" + printable(type) + "'");
    }
    switch (type) {
      case '$': case '*': case '%': case '~': case '>': case '|': case '=': case '!': case ':':
        return MAX_NUMBER_LINE;
      case '_':
        return 3;
      case '#':
        return 4;
      case ',':
        return MAX_DOUBLE_LINE;
      case '+': case '-': case '(':
        return Long.MAX_VALUE / 2;
      default:
        throw new RespCodecException("unknown RESP type '" + printable(type) + "'");
    }
  }

  private boolean onLine(ByteBuf in, List<Object> out, byte type, int from, int to, int lineEnd) {
    switch (type) {
      case '$': case '=': case '!':
        return onBulkHeader(in, out, type, from, to, lineEnd);
      case '*': case '%': case '~': case '>': case '|':
        return onAggregateHeader(in, out, type, from, to, lineEnd);
      case ':':
        if (!isDigitsWithSign(in, from, to)) {
          throw new RespCodecException("invalid integer");
        }
        break;
      case '(':
        if (!isDigitsWithSign(in, from, to)) {
          throw new RespCodecException("invalid big number");
        }
        break;
      case '_':
        if (from != to) {
          throw new RespCodecException("invalid null");
        }
        break;
      case '#':
        if (to - from != 1 || in.getByte(from) != 't' && in.getByte(from) != 'f') {
          throw new RespCodecException("invalid boolean");
        }
        break;
      case ',':
        if (from == to) {
          throw new RespCodecException("invalid double");
        }
        break;
      default:
        break;
    }
    pos = lineEnd;
    completeValue(in, out);
    return true;
  }

  private boolean onBulkHeader(ByteBuf in, List<Object> out, byte type, int from, int to,
      int lineEnd) {
    return onBulkLength(in, out, type, parseLength(in, from, to, "invalid bulk length"), lineEnd);
  }

  private boolean onBulkLength(ByteBuf in, List<Object> out, byte type, long length, int lineEnd) {
    if (length == -1 && type == '$' && mode == Mode.REPLY) {
      pos = lineEnd;
      completeValue(in, out);
      return true;
    }
    if (length < 0) {
      throw new RespCodecException("invalid bulk length");
    }
    if (length > maxFrameBytes) {
      throw new RespCodecException("bulk length " + length + " exceeds max " + maxFrameBytes);
    }
    long end = lineEnd + length + 2;
    if (end > maxFrameBytes) {
      throw new RespCodecException("frame of " + end + " bytes exceeds max " + maxFrameBytes);
    }
    if (mode == Mode.REQUEST) {
      addArg(lineEnd, (int) length);
    }
    pos = lineEnd;
    bulkEnd = (int) end;
    state = State.BULK;
    presize(in, bulkEnd);
    return true;
  }

  private boolean onAggregateHeader(ByteBuf in, List<Object> out, byte type, int from, int to,
      int lineEnd) {
    return onAggregateLength(in, out, type, parseLength(in, from, to,
        type == '*' ? "invalid multibulk length" : "invalid aggregate length"), lineEnd);
  }

  private boolean onAggregateLength(ByteBuf in, List<Object> out, byte type, long n, int lineEnd) {
    pos = lineEnd;
    if (mode == Mode.REQUEST && (n == 0 || n == -1)) {
      // Redis ignores an empty command; so does the proxy.
      in.skipBytes(lineEnd);
      state = State.FRAME_START;
      return true;
    }
    if (n == -1 && type == '*') {
      completeValue(in, out);
      return true;
    }
    if (n < 0) {
      throw new RespCodecException(
          type == '*' ? "invalid multibulk length" : "invalid aggregate length");
    }
    if (n > maxAggregateLength) {
      throw new RespCodecException(
          "aggregate length " + n + " exceeds max " + maxAggregateLength);
    }
    long elements = type == '%' ? 2 * n : type == '|' ? 2 * n + 1 : n;
    long atLeast = lineEnd + elements * (mode == Mode.REQUEST ? MIN_ARG_BYTES : MIN_VALUE_BYTES);
    if (atLeast > maxFrameBytes) {
      throw new RespCodecException(
          "frame of at least " + atLeast + " bytes exceeds max " + maxFrameBytes);
    }
    if (elements == 0) {
      completeValue(in, out);
      return true;
    }
    if (depth == maxDepth) {
      throw new RespCodecException(mode == Mode.REQUEST
          ? "expected '$', got '" + printable(type) + "'"
          : "nesting deeper than " + maxDepth);
    }
    remaining[depth] = elements;
    attribute[depth] = type == '|';
    depth++;
    if (mode == Mode.REQUEST) {
      argCount = (int) n;
      int initial = Math.min(argCount, 1024);
      if (commands == null || args == null || args.length < 2 * initial) {
        // a borrowing decoder reuses its array: only kept commands copy it
        args = new int[2 * initial];
      }
    }
    state = State.LINE;
    return true;
  }

  private long parseLength(ByteBuf in, int from, int to, String invalid) {
    long n = RespNumbers.parseOrInvalid(in, from, to);
    if (n != RespNumbers.INVALID) {
      return n;
    }
    if (to - from == 1 && in.getByte(from) == '?') {
      throw new RespCodecException("streamed RESP3 values are not supported");
    }
    throw new RespCodecException(invalid);
  }

  /** Remembers the type of the frame's actual value: the first one not inside an attribute. */
  private void noteValueType(byte type) {
    if (frameType != 0) {
      return;
    }
    if (type == '|') {
      frameAttributed |= depth == 0;
      return;
    }
    for (int level = 0; level < depth; level++) {
      if (!attribute[level] || remaining[level] != 1) {
        return;
      }
    }
    frameType = type;
  }

  // ---- bulk payloads -------------------------------------------------------------------------

  private boolean readBulkEnd(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < bulkEnd) {
      return false;
    }
    int base = in.readerIndex();
    if (in.getShort(base + bulkEnd - 2) != (CR << 8 | LF)) {
      throw new RespCodecException("expected CRLF after bulk payload");
    }
    pos = bulkEnd;
    state = State.LINE;
    completeValue(in, out);
    return true;
  }

  /**
   * Grows the cumulation once to hold the whole payload, instead of letting it grow in steps
   * (which above 4 MiB are linear, making a large value quadratic). Only when the buffer is
   * ours alone and growing it in place is safe.
   */
  private static void presize(ByteBuf in, int frameEnd) {
    int missing = frameEnd - in.readableBytes();
    if (missing <= PRESIZE_THRESHOLD || missing <= in.writableBytes()) {
      return;
    }
    if (in.refCnt() != 1 || in.isReadOnly() || in instanceof CompositeByteBuf
        || in.maxWritableBytes() < missing) {
      return;
    }
    in.ensureWritable(missing);
  }

  private void addArg(int offset, int length) {
    if (2 * argIndex == args.length) {
      int grown = (int) Math.min((long) args.length, argCount) * 2;
      args = Arrays.copyOf(args, grown);
    }
    args[2 * argIndex] = offset;
    args[2 * argIndex + 1] = length;
    argIndex++;
  }

  // ---- completion ----------------------------------------------------------------------------

  private void completeValue(ByteBuf in, List<Object> out) {
    while (depth > 0) {
      if (--remaining[depth - 1] > 0) {
        state = State.LINE;
        return;
      }
      depth--;
    }
    if (boundaries != null) {
      int index = in.readerIndex();
      int length = pos;
      in.skipBytes(length);
      state = State.FRAME_START;
      boundaries.reply(in, index, length, frameType, frameAttributed);
      return;
    }
    if (commands != null) {
      int base = in.readerIndex();
      int length = pos;
      in.skipBytes(length);
      state = State.FRAME_START;
      view.borrow(in, base, length, argCount, args);
      try {
        commands.command(view);
      } finally {
        view.unborrow();
        if (args.length > 2 * 1024) {
          args = null; // a huge command's positions are not kept for the next one
        }
      }
      return;
    }
    RespFrame frame;
    if (mode == Mode.REQUEST) {
      frame = new RespFrame(in.readRetainedSlice(pos), argCount, args);
      args = null;
    } else {
      frame = new RespFrame(frameType, in.readRetainedSlice(pos), frameAttributed);
    }
    state = State.FRAME_START;
    out.add(frame);
  }

  // ---- inline commands -----------------------------------------------------------------------

  private boolean readInline(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int readable = in.readableBytes();
    int limit = Math.min(MAX_INLINE_BYTES, maxFrameBytes);
    int searchEnd = Math.min(readable, limit);
    int base = in.readerIndex();
    int lf = -1;
    if (lineScan < searchEnd) {
      lf = in.indexOf(base + lineScan, base + searchEnd, LF);
      scannedBytes += (lf < 0 ? base + searchEnd : lf + 1) - (base + lineScan);
    }
    if (lf < 0) {
      if (searchEnd == limit) {
        throw new RespCodecException("too big inline request");
      }
      lineScan = searchEnd;
      return false;
    }
    RespFrame frame = InlineCommand.parse(ctx.alloc(), in, base, lf, maxFrameBytes);
    in.skipBytes(lf + 1 - base);
    state = State.FRAME_START;
    if (frame != null) {
      if (commands != null) {
        commands.command(frame);
      } else {
        out.add(frame);
      }
    }
    return true;
  }

  // ---- errors --------------------------------------------------------------------------------

  private RespCodecException frameTooLarge() {
    return new RespCodecException("frame exceeds max " + maxFrameBytes + " bytes");
  }

  private static RespCodecException lineTooLong(byte type) {
    switch (type) {
      case '$': case '=': case '!':
        return new RespCodecException("invalid bulk length");
      case '*':
        return new RespCodecException("invalid multibulk length");
      case '%': case '~': case '>': case '|':
        return new RespCodecException("invalid aggregate length");
      case ':':
        return new RespCodecException("invalid integer");
      case '_':
        return new RespCodecException("invalid null");
      case '#':
        return new RespCodecException("invalid boolean");
      default:
        return new RespCodecException("invalid double");
    }
  }

  private static boolean isDigitsWithSign(ByteBuf in, int from, int to) {
    int i = from < to && (in.getByte(from) == '-' || in.getByte(from) == '+') ? from + 1 : from;
    if (i >= to) {
      return false;
    }
    for (; i < to; i++) {
      byte b = in.getByte(i);
      if (b < '0' || b > '9') {
        return false;
      }
    }
    return true;
  }

  static String printable(byte b) {
    return b >= 0x21 && b <= 0x7e ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }
}

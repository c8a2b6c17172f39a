package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufHolder;
import io.netty.util.IllegalReferenceCountException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One complete top-level RESP value exactly as it came off the wire, ready to be forwarded
 * untouched: a client command (from {@link RespFrameDecoder.Mode#REQUEST}) or a backend reply
 * (from {@link RespFrameDecoder.Mode#REPLY}).
 *
 * <p>The content starts at index 0 and is {@link #size()} bytes long. Argument positions of a
 * command are absolute indexes into the content, so they stay valid after the content has been
 * read or written out (its reader index moved). A frame holds one reference to its content and
 * must be released exactly once.
 *
 * <p>A <em>borrowed</em> command frame (from {@link RespFrameDecoder#borrowingCommands}) is the
 * decoder's one reusable view of the command it has just read, valid only while the decoder's
 * callback runs: its content is the decoder's cumulation, the command starts at {@link #base()},
 * and retaining or releasing it does nothing. Whoever keeps a command past that call takes
 * {@link #keep()}, an ordinary frame; a command forwarded at once is copied from the cumulation
 * and never becomes an object of its own.
 */
public final class RespFrame implements ByteBufHolder {

  /** Longest command name kept by {@link #commandName()}; no real Redis command is that long. */
  static final int MAX_COMMAND_NAME = 64;
  /**
   * Command names seen lately, direct-mapped by hash: bounded whatever clients send, shared by
   * every thread without locks (a slot holds an immutable string; a race only costs a new one).
   */
  private static final String[] NAMES = new String[1024];
  /**
   * Names of at most 8 bytes (nearly all), keyed by their upper-cased bytes as one {@code long}:
   * direct-mapped and shared like {@link #NAMES}; an entry is immutable.
   */
  private static final ShortName[] SHORT_NAMES = new ShortName[1024];

  private record ShortName(long bytes, int length, String name) {
  }

  private final boolean borrowed;
  private ByteBuf content;
  /** Where the value starts in {@link #content}: 0 but for a borrowed frame. */
  private int base;
  private byte type;
  private int size;
  private boolean attributed;
  private int argCount;
  /**
   * Argument {@code i} starts at {@code base + args[2 * i]} and is {@code args[2 * i + 1]} bytes
   * long (one array, not two). A borrowed frame's array is the decoder's.
   */
  private int[] args;
  private String commandName;

  /** A reply frame. */
  RespFrame(byte type, ByteBuf content, boolean attributed) {
    this(type, content, content.writerIndex(), attributed, 0, null);
  }

  /**
   * Wraps {@code content} (taking ownership; the value's bytes from index 0) as a reply frame,
   * for replies found by a {@link RespFrameDecoder#replyBoundaries} decoder that must be kept.
   */
  public static RespFrame reply(byte type, ByteBuf content, boolean attributed) {
    return new RespFrame(type, content, attributed);
  }

  /** A command frame: a RESP array of {@code argCount} bulk strings. */
  RespFrame(ByteBuf content, int argCount, int[] argOffsets, int[] argLengths) {
    this((byte) '*', content, content.writerIndex(), false, argCount, interleave(argCount, argOffsets, argLengths));
  }

  /** A command frame whose argument positions are interleaved: offset, length, offset, length… */
  RespFrame(ByteBuf content, int argCount, int[] args) {
    this((byte) '*', content, content.writerIndex(), false, argCount, args);
  }

  private static int[] interleave(int argCount, int[] offsets, int[] lengths) {
    int[] args = new int[2 * argCount];
    for (int i = 0; i < argCount; i++) {
      args[2 * i] = offsets[i];
      args[2 * i + 1] = lengths[i];
    }
    return args;
  }

  private RespFrame(byte type, ByteBuf content, int size, boolean attributed, int argCount,
      int[] args) {
    if (content == null) {
      throw new NullPointerException("content");
    }
    this.borrowed = false;
    this.content = content;
    this.type = type;
    this.size = size;
    this.attributed = attributed;
    this.argCount = argCount;
    this.args = args;
  }

  private RespFrame() {
    this.borrowed = true;
    this.type = '*';
  }

  /** The decoder's reusable view; see {@link #borrow}. */
  static RespFrame borrowedView() {
    return new RespFrame();
  }

  /** Points this borrowed view at the command of {@code size} bytes at {@code base} in {@code in}. */
  void borrow(ByteBuf in, int base, int size, int argCount, int[] args) {
    this.content = in;
    this.base = base;
    this.size = size;
    this.argCount = argCount;
    this.args = args;
    this.commandName = null;
  }

  /** Forgets the cumulation once the decoder's callback has returned. */
  void unborrow() {
    this.content = null;
    this.args = null;
  }

  /** Whether this is the decoder's borrowed view, valid only during its callback. */
  public boolean isBorrowed() {
    return borrowed;
  }

  /** Index in {@link #content()} where the value starts: 0 but for a borrowed frame. */
  public int base() {
    return base;
  }

  /**
   * A frame that may be kept: this one when it is an ordinary frame; for a borrowed view, a new
   * frame over a retained slice of the command, with its own copy of the argument positions.
   */
  public RespFrame keep() {
    if (!borrowed) {
      return this;
    }
    RespFrame kept = new RespFrame(type, content.retainedSlice(base, size), size, false, argCount,
        Arrays.copyOf(args, 2 * argCount));
    kept.commandName = commandName;
    return kept;
  }

  /**
   * Encodes {@code words} as a RESP array of bulk strings and wraps it as a command frame, as if
   * a client had sent it. For commands the proxy originates or for tests.
   */
  public static RespFrame command(ByteBufAllocator alloc, String... words) {
    ByteBuf buf = alloc.buffer();
    int[] offsets = new int[words.length];
    int[] lengths = new int[words.length];
    try {
      RespWriter.arrayHeader(buf, words.length);
      for (int i = 0; i < words.length; i++) {
        byte[] bytes = words[i].getBytes(StandardCharsets.UTF_8);
        buf.writeByte('$');
        RespWriter.writeDecimal(buf, bytes.length);
        buf.writeShort(RespWriter.CRLF);
        offsets[i] = buf.writerIndex();
        lengths[i] = bytes.length;
        buf.writeBytes(bytes).writeShort(RespWriter.CRLF);
      }
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
    return new RespFrame(buf, words.length, offsets, lengths);
  }

  /**
   * The type byte of the value: {@code *} for every command; for a reply the type of the actual
   * value, after any leading RESP3 attribute ({@code |}).
   */
  public byte type() {
    return type;
  }

  /** Bytes in the frame, as forwarded (for an inline command, its canonical RESP encoding). */
  public int size() {
    return size;
  }

  /** True for a simple error ({@code -}) or a RESP3 bulk error ({@code !}). */
  public boolean isError() {
    return type == '-' || type == '!';
  }

  /** True for a RESP3 push ({@code >}): out-of-band data, not the reply to a command. */
  public boolean isPush() {
    return type == '>';
  }

  /** True when the reply starts with a RESP3 attribute ({@code |}) that precedes the value. */
  public boolean hasAttribute() {
    return attributed;
  }

  /** True for frames decoded in request mode (commands); they carry argument positions. */
  public boolean isCommand() {
    return args != null;
  }

  /** Number of arguments including the command name; 0 for a reply. */
  public int argCount() {
    return argCount;
  }

  /**
   * The command name in upper-case ASCII (other bytes kept as Latin-1 chars), cached; names
   * longer than 64 bytes are cut. Empty for a reply.
   */
  public String commandName() {
    String name = commandName;
    if (name == null) {
      name = argCount == 0 ? "" : upperAscii(0);
      commandName = name;
    }
    return name;
  }

  /** Argument {@code i} (0 is the command name) as a non-retained slice of the content. */
  public ByteBuf arg(int i) {
    checkIndex(i);
    return content().slice(base + args[2 * i], args[2 * i + 1]);
  }

  /** Length in bytes of argument {@code i}. */
  public int argLength(int i) {
    checkIndex(i);
    return args[2 * i + 1];
  }

  /** Absolute index in {@link #content()} where argument {@code i} starts. */
  public int argOffset(int i) {
    checkIndex(i);
    return base + args[2 * i];
  }

  /** Argument {@code i} decoded as UTF-8. */
  public String argString(int i) {
    checkIndex(i);
    return content().toString(base + args[2 * i], args[2 * i + 1], StandardCharsets.UTF_8);
  }

  /**
   * Argument {@code i} as a signed 64-bit decimal: an optional {@code -} and digits only (no
   * {@code +}, no spaces), as Redis reads integers.
   *
   * @throws NumberFormatException when it is not such an integer
   */
  public long argLong(int i) {
    checkIndex(i);
    try {
      return RespNumbers.parseLong(content(), base + args[2 * i], base + args[2 * i] + args[2 * i + 1]);
    } catch (NumberFormatException e) {
      throw new NumberFormatException(e.getMessage() + ": '" + abbreviated(i) + "'");
    }
  }

  /**
   * Argument {@code i} as a non-negative {@code int}, or -1 when it is not one (negative, too
   * big, not a number). Throws nothing and allocates nothing: for counts such as {@code numkeys}.
   */
  public int argNonNegativeInt(int i) {
    checkIndex(i);
    long value = RespNumbers.parseOrInvalid(content(), base + args[2 * i], base + args[2 * i] + args[2 * i + 1]);
    return value < 0 || value > Integer.MAX_VALUE ? -1 : (int) value;
  }

  /** Whether argument {@code i} equals the ASCII string {@code s} ignoring case; allocates nothing. */
  public boolean argEqualsIgnoreCase(int i, String s) {
    checkIndex(i);
    int length = args[2 * i + 1];
    if (length != s.length()) {
      return false;
    }
    ByteBuf buf = content();
    int offset = base + args[2 * i];
    for (int k = 0; k < length; k++) {
      int b = buf.getByte(offset + k) & 0xff;
      char c = s.charAt(k);
      if (b != c && toUpper(b) != toUpper(c)) {
        return false;
      }
    }
    return true;
  }

  private static int toUpper(int c) {
    return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
  }

  /**
   * The upper-cased name of argument {@code i}, shared with earlier frames that named the same
   * command (see {@link #NAMES}): every request asks for its command's name, and there are few.
   * A name of up to 8 bytes followed by enough of the frame is read with one {@code getLong}
   * (one bounds and liveness check) and upper-cased eight bytes at a time.
   */
  private String upperAscii(int i) {
    ByteBuf buf = content();
    int offset = base + args[2 * i];
    int length = Math.min(args[2 * i + 1], MAX_COMMAND_NAME);
    if (length <= Long.BYTES && offset + Long.BYTES <= base + size) {
      return shortName(buf.getLong(offset), length);
    }
    int h = length;
    for (int k = 0; k < length; k++) {
      h = 31 * h + toUpper(buf.getByte(offset + k) & 0xff);
    }
    int slot = (h ^ (h >>> 16)) & (NAMES.length - 1);
    String cached = NAMES[slot];
    if (cached != null && sameUpper(cached, buf, offset, length)) {
      return cached;
    }
    String made = newUpper(buf, offset, length);
    NAMES[slot] = made;
    return made;
  }

  /** A name of {@code length} (at most 8) bytes, the first of which is the top byte of {@code raw}. */
  static String shortName(long raw, int length) {
    long x = length == Long.BYTES ? raw : raw & ~(-1L >>> (8 * length));
    long upper = upperAscii(x);
    int slot = (int) ((upper * 0x9E3779B97F4A7C15L + length) >>> 54) & (SHORT_NAMES.length - 1);
    ShortName cached = SHORT_NAMES[slot];
    if (cached != null && cached.bytes == upper && cached.length == length) {
      return cached.name;
    }
    char[] chars = new char[length];
    for (int k = 0; k < length; k++) {
      chars[k] = (char) ((upper >>> (56 - 8 * k)) & 0xff);
    }
    String made = new String(chars);
    SHORT_NAMES[slot] = new ShortName(upper, length, made);
    return made;
  }

  /** {@code a}–{@code z} to upper case in each of the eight bytes of {@code x}, other bytes kept. */
  static long upperAscii(long x) {
    long low7 = x & 0x7F7F7F7F7F7F7F7FL;
    // high bit of each byte: low7 >= 'a', low7 > 'z' (no carry crosses a byte: low7 <= 0x7f)
    long atLeastA = low7 + 0x1F1F1F1F1F1F1F1FL;
    long aboveZ = low7 + 0x0505050505050505L;
    long lower = atLeastA & ~aboveZ & ~x & 0x8080808080808080L;
    return x - (lower >>> 2);
  }

  private static boolean sameUpper(String name, ByteBuf buf, int offset, int length) {
    if (name.length() != length) {
      return false;
    }
    for (int k = 0; k < length; k++) {
      if (name.charAt(k) != toUpper(buf.getByte(offset + k) & 0xff)) {
        return false;
      }
    }
    return true;
  }

  private static String newUpper(ByteBuf buf, int offset, int length) {
    char[] chars = new char[length];
    for (int k = 0; k < length; k++) {
      chars[k] = (char) toUpper(buf.getByte(offset + k) & 0xff);
    }
    return new String(chars);
  }

  private String abbreviated(int i) {
    int length = Math.min(args[2 * i + 1], 32);
    return content().toString(base + args[2 * i], length, StandardCharsets.UTF_8);
  }

  private void checkIndex(int i) {
    if (i < 0 || i >= argCount) {
      throw new IndexOutOfBoundsException("argument " + i + " of " + argCount);
    }
  }

  // ---- ByteBufHolder: an ordinary frame owns one reference to its content; a borrowed one none

  @Override
  public ByteBuf content() {
    ByteBuf c = content;
    if (c == null) {
      throw new IllegalStateException("a borrowed command frame used after its decoder callback");
    }
    if (!borrowed && c.refCnt() <= 0) {
      throw new IllegalReferenceCountException(c.refCnt());
    }
    return c;
  }

  @Override
  public RespFrame copy() {
    return replace(content().copy(base, size));
  }

  @Override
  public RespFrame duplicate() {
    return replace(content().duplicate());
  }

  @Override
  public RespFrame retainedDuplicate() {
    return replace(content().retainedDuplicate());
  }

  /** A frame with the same type and argument positions over {@code content}, which must hold the same bytes from index 0. */
  @Override
  public RespFrame replace(ByteBuf content) {
    if (borrowed) {
      throw new UnsupportedOperationException("replace on a borrowed frame; keep() it first");
    }
    RespFrame frame = new RespFrame(type, content, size, attributed, argCount, args);
    frame.commandName = commandName;
    return frame;
  }

  @Override
  public int refCnt() {
    return borrowed ? 1 : content.refCnt();
  }

  @Override
  public RespFrame retain() {
    if (!borrowed) {
      content.retain();
    }
    return this;
  }

  @Override
  public RespFrame retain(int increment) {
    if (!borrowed) {
      content.retain(increment);
    }
    return this;
  }

  @Override
  public RespFrame touch() {
    if (!borrowed) {
      content.touch();
    }
    return this;
  }

  @Override
  public RespFrame touch(Object hint) {
    if (!borrowed) {
      content.touch(hint);
    }
    return this;
  }

  /** Releases the content (an ordinary frame); does nothing to a borrowed view. */
  @Override
  public boolean release() {
    return !borrowed && content.release();
  }

  @Override
  public boolean release(int decrement) {
    return !borrowed && content.release(decrement);
  }

  @Override
  public String toString() {
    String kind = isCommand() ? "command " + commandName() + " argc=" + argCount
        : "reply '" + (char) type + "'";
    return "RespFrame(" + kind + ", " + size + " bytes)";
  }
}

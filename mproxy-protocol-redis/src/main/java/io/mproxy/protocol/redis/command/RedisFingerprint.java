package io.mproxy.protocol.redis.command;

import io.mproxy.core.fingerprint.ShapeInterner;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A low-cardinality description of a command for statistics: the command name (with the
 * subcommand of a container, {@code CLIENT SETNAME}) followed by the <em>shape</em> of its keys.
 *
 * <p>A key's shape replaces identifiers with {@code ?}: every run of decimal digits, and every
 * run of hex words of at least 8 hex digits in all (hashes, UUIDs with their dashes). So
 * {@code GET user:123:profile} becomes {@code GET user:?:profile} and
 * {@code HSET session:9f86d081884c7d65 f v} becomes {@code HSET session:?}. Bytes outside
 * printable ASCII become one {@code ?} per run. Several keys give their distinct shapes in
 * order, at most three and then {@code …}; at most the first 32 keys are looked at. The result
 * is at most 200 characters. No regular expressions: this runs for every request, so it is built
 * in a per-thread buffer and the same shape comes back as the same string (no garbage per request
 * once a shape has been seen).
 *
 * <p>A command with one key of at most {@link #MEMO_KEY_BYTES} bytes is first looked up in a
 * per-thread memo of the last such command per slot: the same command with a key of the same
 * length, the same bytes wherever that key had no decimal digit and a digit wherever it had one,
 * has the same fingerprint (the rules treat every digit alike and copy every other byte they
 * keep), so it is answered with eight bytes compared at a time instead of a scan and an intern.
 * Where the pattern keeps changing (hex hashes, random names), the slot is refilled at every
 * eighth miss only, so that such keys pay for the comparison and not for the memo's upkeep. The
 * comparison reads the key where it lies (the buffer's memory or array); only a miss, or a
 * buffer with neither, copies it.
 */
public final class RedisFingerprint {

  public static final int MAX_LENGTH = 200;
  private static final int MAX_SHAPES = 3;
  private static final int MAX_KEYS_EXAMINED = 32;
  private static final int MIN_HEX_DIGITS = 8;
  private static final char ELLIPSIS = '…';
  private static final ShapeInterner SHAPES = new ShapeInterner(4096);
  private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
    @Override
    protected Scratch initialValue() {
      return new Scratch();
    }
  };

  /** Keys up to this long are copied into the scratch at once; longer ones are read in place. */
  static final int MAX_KEY_BYTES = 1024;
  /** Keys up to this long (one per command) are looked up in the thread's memo first. */
  static final int MEMO_KEY_BYTES = 64;
  private static final int MEMO_WORDS = MEMO_KEY_BYTES / Long.BYTES;
  /** Entries of a thread's memo (a power of two), direct-mapped by command and key length. */
  static final int MEMO_SLOTS = 64;
  /** A slot missed by its own command and key length is refilled at every this-many-th miss. */
  private static final int MEMO_REFILL = 8;
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;
  /** Names up to this long fit the scratch ({@link RespFrame#commandName()} cuts at 64). */
  private static final int MAX_NAME_CHARS = 128;
  private static final byte ALNUM = 1;
  private static final byte HEX = 2;
  private static final byte DIGIT = 4;
  private static final byte PRINTABLE = 8;
  /** The classes of each byte value, so that one table load answers what a key byte is. */
  private static final byte[] CLASS = new byte[256];

  static {
    for (int b = 0x20; b < 0x7f; b++) {
      CLASS[b] = PRINTABLE;
    }
    for (int b = '0'; b <= '9'; b++) {
      CLASS[b] |= ALNUM | HEX | DIGIT;
    }
    for (int b = 'a'; b <= 'z'; b++) {
      CLASS[b] |= ALNUM | (b <= 'f' ? HEX : 0);
      CLASS[b - 'a' + 'A'] |= ALNUM | (b <= 'f' ? HEX : 0);
    }
  }

  /** What one fingerprint is built in, reused by the thread's next one. */
  private static final class Scratch {
    final StringBuilder sb = new StringBuilder(MAX_LENGTH + 16);
    final int[] starts = new int[MAX_SHAPES];
    /** The key being shaped. */
    final byte[] in = new byte[MAX_KEY_BYTES];
    /**
     * The fingerprint being built: a name, then shapes while it is at most {@link #MAX_LENGTH}
     * long, the last of which may be as long as a key.
     */
    final char[] out = new char[MAX_NAME_CHARS + MAX_LENGTH + 2 + MAX_KEY_BYTES];
    /** Per memo slot: the command it was made for (null: none), its key's length, its fingerprint. */
    final CommandInfo[] memoInfo = new CommandInfo[MEMO_SLOTS];
    final int[] memoLength = new int[MEMO_SLOTS];
    final String[] memoShape = new String[MEMO_SLOTS];
    /** Misses of the slot's command and key length since the slot was filled. */
    final int[] memoMisses = new int[MEMO_SLOTS];
    /** Per slot, {@link #MEMO_WORDS} words each: 0xff in the bytes of the key that were digits. */
    final long[] memoDigits = new long[MEMO_SLOTS * MEMO_WORDS];
    /** 0xff in the key's other bytes (none past its end). */
    final long[] memoOthers = new long[MEMO_SLOTS * MEMO_WORDS];
    /** The key's other bytes, digits and bytes past its end zero. */
    final long[] memoBytes = new long[MEMO_SLOTS * MEMO_WORDS];
  }

  private RedisFingerprint() {
  }

  /** The fingerprint of {@code cmd}, looked up in the {@linkplain RedisCommandTable#standard() standard table}. */
  public static String of(RespFrame cmd) {
    return of(cmd, RedisCommandTable.standard().lookup(cmd));
  }

  /** The fingerprint of {@code cmd}, described by {@code info} (from {@link RedisCommandTable}). */
  public static String of(RespFrame cmd, CommandInfo info) {
    String name = info.name();
    if (!info.hasKeys()) {
      return name;
    }
    int[] keys = info.keyPositions(cmd);
    if (keys.length == 0) {
      return name;
    }
    if (keys.length == 1 && cmd.argLength(keys[0]) <= MEMO_KEY_BYTES && name.length() <= MAX_NAME_CHARS) {
      return ofOneShortKey(SCRATCH.get(), cmd, info, keys[0]);
    }
    int examined = Math.min(keys.length, MAX_KEYS_EXAMINED);
    if (name.length() > MAX_NAME_CHARS || anyLongerThan(cmd, keys, examined, MAX_KEY_BYTES)) {
      return ofLongKeys(cmd, name, keys, examined);
    }
    Scratch scratch = SCRATCH.get();
    char[] out = scratch.out;
    byte[] in = scratch.in;
    name.getChars(0, name.length(), out, 0);
    int n = name.length();
    int[] starts = scratch.starts;
    int shapes = 0;
    ByteBuf buf = cmd.content();
    for (int k = 0; k < examined && n <= MAX_LENGTH; k++) {
      int mark = n;
      out[n++] = ' ';
      int length = cmd.argLength(keys[k]);
      // one bounds and liveness check for the whole key, instead of one per byte examined
      buf.getBytes(cmd.argOffset(keys[k]), in, 0, length);
      n = appendShape(in, length, out, n);
      if (isRepeat(out, n, starts, shapes, mark)) {
        n = mark;
      } else if (shapes == MAX_SHAPES) {
        n = mark;
        out[n++] = ' ';
        out[n++] = ELLIPSIS;
        break;
      } else {
        starts[shapes++] = mark;
      }
    }
    if (n > MAX_LENGTH) {
      n = MAX_LENGTH - 1;
      out[n++] = ELLIPSIS;
    }
    return SHAPES.intern(out, n);
  }

  /**
   * A command whose only key is at most {@link #MEMO_KEY_BYTES} long: from the thread's memo when
   * its slot holds the same command with a key of the same pattern (see the class comment), else
   * shaped and remembered.
   */
  private static String ofOneShortKey(Scratch scratch, RespFrame cmd, CommandInfo info, int key) {
    int length = cmd.argLength(key);
    ByteBuf buf = cmd.content();
    int offset = cmd.argOffset(key);
    byte[] in = scratch.in;
    int h = info.name().hashCode() * 0x9E3779B9 + length * 0x85EBCA6B;
    int slot = (h ^ (h >>> 16)) & (MEMO_SLOTS - 1);
    int words = (length + Long.BYTES - 1) / Long.BYTES;
    int base = slot * MEMO_WORDS;
    boolean sameCommand = scratch.memoInfo[slot] == info && scratch.memoLength[slot] == length;
    if (sameCommand) {
      int inPlace = samePatternInPlace(scratch, buf, offset, length, base, words);
      if (inPlace == HIT) {
        return scratch.memoShape[slot];
      }
      buf.getBytes(offset, in, 0, length);
      if (inPlace == CANNOT && samePattern(scratch, in, base, words)) {
        return scratch.memoShape[slot];
      }
    } else {
      buf.getBytes(offset, in, 0, length);
    }
    String name = info.name();
    char[] out = scratch.out;
    name.getChars(0, name.length(), out, 0);
    int n = name.length();
    out[n++] = ' ';
    n = appendShape(in, length, out, n);
    if (n > MAX_LENGTH) {
      n = MAX_LENGTH - 1;
      out[n++] = ELLIPSIS;
    }
    String shape = SHAPES.intern(out, n);
    if (sameCommand && (++scratch.memoMisses[slot] & (MEMO_REFILL - 1)) != 0) {
      // keys of this command and length whose pattern varies (hashes, random names): the slot is
      // refilled at every MEMO_REFILL-th such miss only, so that they pay little for the memo
      return shape;
    }
    scratch.memoMisses[slot] = 0;
    for (int w = 0; w < words; w++) {
      int rest = length - w * Long.BYTES;
      long valid = rest >= Long.BYTES ? -1L : (1L << (rest * Byte.SIZE)) - 1;
      long word = (long) LONGS.get(in, w * Long.BYTES);
      long digits = digitBytes(word) & valid;
      long others = valid & ~digits;
      scratch.memoDigits[base + w] = digits;
      scratch.memoOthers[base + w] = others;
      scratch.memoBytes[base + w] = word & others;
    }
    scratch.memoInfo[slot] = info;
    scratch.memoLength[slot] = length;
    scratch.memoShape[slot] = shape;
    return shape;
  }

  /**
   * Whether the key in {@code in} (of the slot's length) has the same bytes as the slot's key
   * wherever that had no digit, and a digit wherever it had one.
   */
  private static boolean samePattern(Scratch scratch, byte[] in, int base, int words) {
    for (int w = 0; w < words; w++) {
      long word = (long) LONGS.get(in, w * Long.BYTES);
      long digits = scratch.memoDigits[base + w];
      if ((word & scratch.memoOthers[base + w]) != scratch.memoBytes[base + w]
          || (digitBytes(word) & digits) != digits) {
        return false;
      }
    }
    return true;
  }

  private static final int MISS = 0;
  private static final int HIT = 1;
  /** The buffer's memory cannot be read a word at a time: copy the key and compare the copy. */
  private static final int CANNOT = -1;
  private static final boolean UNALIGNED_READS = PlatformDependent.isUnaligned();

  /**
   * {@link #samePattern} read straight from the buffer's memory (or its array), without copying
   * the key first: the copy's byte stores followed by word loads of the same bytes cost more than
   * the comparison. A key of eight bytes or more ends with a word read at its last eight bytes
   * and shifted down, so nothing past the key is read; a shorter one is read a byte at a time.
   * {@link #CANNOT} for a buffer with neither (a composite) or where unaligned word reads are
   * not allowed.
   */
  private static int samePatternInPlace(Scratch scratch, ByteBuf buf, int offset, int length,
      int base, int words) {
    if (offset < 0 || length > buf.capacity() - offset) {
      return CANNOT; // the copy throws as the buffer would
    }
    if (buf.hasMemoryAddress() && UNALIGNED_READS) {
      long address = buf.memoryAddress() + offset;
      int full = length / Long.BYTES;
      for (int w = 0; w < full; w++) {
        if (!matches(scratch, base + w, nativeWord(address + (long) w * Long.BYTES))) {
          return MISS;
        }
      }
      int rest = length - full * Long.BYTES;
      if (rest == 0) {
        return HIT;
      }
      long tail;
      if (full > 0) {
        tail = nativeWord(address + length - Long.BYTES) >>> ((Long.BYTES - rest) * Byte.SIZE);
      } else {
        tail = 0;
        for (int i = 0; i < rest; i++) {
          tail |= (PlatformDependent.getByte(address + i) & 0xffL) << (i * Byte.SIZE);
        }
      }
      return matches(scratch, base + full, tail) ? HIT : MISS;
    }
    if (buf.hasArray()) {
      byte[] array = buf.array();
      int start = buf.arrayOffset() + offset;
      int full = length / Long.BYTES;
      for (int w = 0; w < full; w++) {
        if (!matches(scratch, base + w, (long) LONGS.get(array, start + w * Long.BYTES))) {
          return MISS;
        }
      }
      int rest = length - full * Long.BYTES;
      if (rest == 0) {
        return HIT;
      }
      long tail;
      if (full > 0) {
        tail = (long) LONGS.get(array, start + length - Long.BYTES) >>> ((Long.BYTES - rest) * Byte.SIZE);
      } else {
        tail = 0;
        for (int i = 0; i < rest; i++) {
          tail |= (array[start + i] & 0xffL) << (i * Byte.SIZE);
        }
      }
      return matches(scratch, base + full, tail) ? HIT : MISS;
    }
    return CANNOT;
  }

  /** Eight bytes at {@code address}, the first in the lowest byte (as {@link #LONGS} reads them). */
  private static long nativeWord(long address) {
    long word = PlatformDependent.getLong(address);
    return PlatformDependent.BIG_ENDIAN_NATIVE_ORDER ? Long.reverseBytes(word) : word;
  }

  /** Whether {@code word} of a key fits the memo's word {@code at} (bytes past the key's end are ignored). */
  private static boolean matches(Scratch scratch, int at, long word) {
    long digits = scratch.memoDigits[at];
    return (word & scratch.memoOthers[at]) == scratch.memoBytes[at]
        && (digitBytes(word) & digits) == digits;
  }

  /** 0xff in each byte of {@code word} that is an ASCII digit, 0 in the others. */
  static long digitBytes(long word) {
    long x = word ^ 0x3030303030303030L;
    // per byte, non-zero unless the high nibble is 0 and the low one at most 9 (no carries: <= 0x15)
    long off = (x & 0xF0F0F0F0F0F0F0F0L)
        | (((x & 0x0F0F0F0F0F0F0F0FL) + 0x0606060606060606L) & 0x1010101010101010L);
    // per byte, the high bit set when the byte is non-zero (no carries: <= 0x7f + 0x7f)
    long nonZero = (((off & ~HIGH_BITS) + ~HIGH_BITS) | off) & HIGH_BITS;
    return ((~nonZero & HIGH_BITS) >>> 7) * 0xFF;
  }

  private static boolean anyLongerThan(RespFrame cmd, int[] keys, int examined, int limit) {
    for (int k = 0; k < examined; k++) {
      if (cmd.argLength(keys[k]) > limit) {
        return true;
      }
    }
    return false;
  }

  /** Whether the shape in {@code out[mark, n)} equals one already written. */
  private static boolean isRepeat(char[] out, int n, int[] starts, int shapes, int mark) {
    int length = n - mark;
    for (int s = 0; s < shapes; s++) {
      int start = starts[s];
      int end = s + 1 < shapes ? starts[s + 1] : mark;
      if (end - start == length && Arrays.equals(out, start, end, out, mark, n)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Appends the shape of {@code in[0, end)} to {@code out} from {@code n}, stopping past the
   * length limit; returns the new length. The same rules as {@link #appendShape(StringBuilder,
   * ByteBuf, int, int)}, over a copy of the key: each alphanumeric word is classified in one scan
   * of a byte-class table.
   */
  private static int appendShape(byte[] in, int end, char[] out, int n) {
    int i = 0;
    while (i < end && n <= MAX_LENGTH) {
      int cls = CLASS[in[i] & 0xff];
      if ((cls & ALNUM) != 0) {
        int wordEnd = i;
        int hex = HEX;
        do {
          hex &= cls;
          wordEnd++;
        } while (wordEnd < end && ((cls = CLASS[in[wordEnd] & 0xff]) & ALNUM) != 0);
        if (hex != 0) {
          int groupEnd = groupOfHexWords(in, i, wordEnd, end);
          if (groupEnd > 0) {
            out[n++] = '?';
            i = groupEnd;
            continue;
          }
        }
        while (i < wordEnd) {
          int b = in[i] & 0xff;
          if ((CLASS[b] & DIGIT) != 0) {
            out[n++] = '?';
            do {
              i++;
            } while (i < wordEnd && (CLASS[in[i] & 0xff] & DIGIT) != 0);
          } else {
            out[n++] = (char) b;
            i++;
          }
        }
      } else if ((cls & PRINTABLE) != 0) {
        out[n++] = (char) in[i];
        i++;
      } else {
        out[n++] = '?';
        do {
          i++;
        } while (i < end && (CLASS[in[i] & 0xff] & PRINTABLE) == 0);
      }
    }
    return n;
  }

  /**
   * After a hex word {@code in[start, wordEnd)}: the end of the group of hex words joined by
   * {@code -} that starts with it, when the group has {@link #MIN_HEX_DIGITS} hex digits in all;
   * else -1.
   */
  private static int groupOfHexWords(byte[] in, int start, int wordEnd, int end) {
    int hexDigits = wordEnd - start;
    int groupEnd = wordEnd;
    while (groupEnd + 1 < end && in[groupEnd] == '-' && (CLASS[in[groupEnd + 1] & 0xff] & ALNUM) != 0) {
      int next = groupEnd + 1;
      int hex = HEX;
      int cls;
      while (next < end && ((cls = CLASS[in[next] & 0xff]) & ALNUM) != 0) {
        hex &= cls;
        next++;
      }
      if (hex == 0) {
        break;
      }
      hexDigits += next - groupEnd - 1;
      groupEnd = next;
    }
    return hexDigits >= MIN_HEX_DIGITS ? groupEnd : -1;
  }

  /**
   * A key longer than the scratch (or an absurd name): the same rules read byte by byte from the
   * buffer into a {@link StringBuilder}. Rare, so kept simple rather than fast.
   */
  private static String ofLongKeys(RespFrame cmd, String name, int[] keys, int examined) {
    Scratch scratch = SCRATCH.get();
    StringBuilder sb = scratch.sb;
    sb.setLength(0);
    sb.append(name);
    int[] starts = scratch.starts;
    int shapes = 0;
    for (int k = 0; k < examined && sb.length() <= MAX_LENGTH; k++) {
      int mark = sb.length();
      sb.append(' ');
      appendShape(sb, cmd.content(), cmd.argOffset(keys[k]), cmd.argLength(keys[k]));
      if (isRepeat(sb, starts, shapes, mark)) {
        sb.setLength(mark);
      } else if (shapes == MAX_SHAPES) {
        sb.setLength(mark);
        sb.append(' ').append(ELLIPSIS);
        break;
      } else {
        starts[shapes++] = mark;
      }
    }
    if (sb.length() > MAX_LENGTH) {
      sb.setLength(MAX_LENGTH - 1);
      sb.append(ELLIPSIS);
    }
    return SHAPES.intern(sb);
  }

  /** Whether the shape from {@code mark} to the end equals one already written. */
  private static boolean isRepeat(StringBuilder sb, int[] starts, int shapes, int mark) {
    int length = sb.length() - mark;
    for (int s = 0; s < shapes; s++) {
      int start = starts[s];
      int end = s + 1 < shapes ? starts[s + 1] : mark;
      if (end - start != length) {
        continue;
      }
      int i = 0;
      while (i < length && sb.charAt(start + i) == sb.charAt(mark + i)) {
        i++;
      }
      if (i == length) {
        return true;
      }
    }
    return false;
  }

  /** Appends the shape of {@code buf[from, from + length)}, stopping past the length limit. */
  static void appendShape(StringBuilder sb, ByteBuf buf, int from, int length) {
    int end = from + length;
    int i = from;
    while (i < end && sb.length() <= MAX_LENGTH) {
      int b = buf.getByte(i) & 0xff;
      if (isAlnum(b)) {
        i = appendWords(sb, buf, i, end);
      } else if (b >= 0x20 && b < 0x7f) {
        sb.append((char) b);
        i++;
      } else {
        sb.append('?');
        while (i < end && !isPrintable(buf.getByte(i) & 0xff)) {
          i++;
        }
      }
    }
  }

  /**
   * At an alphanumeric word: a group of hex words joined by {@code -} with 8+ hex digits becomes
   * one {@code ?}; otherwise the word is copied with its digit runs as {@code ?}.
   */
  private static int appendWords(StringBuilder sb, ByteBuf buf, int start, int end) {
    int wordEnd = wordEnd(buf, start, end);
    if (isHexWord(buf, start, wordEnd)) {
      int hexDigits = wordEnd - start;
      int groupEnd = wordEnd;
      while (groupEnd + 1 < end && buf.getByte(groupEnd) == '-'
          && isAlnum(buf.getByte(groupEnd + 1) & 0xff)) {
        int next = wordEnd(buf, groupEnd + 1, end);
        if (!isHexWord(buf, groupEnd + 1, next)) {
          break;
        }
        hexDigits += next - groupEnd - 1;
        groupEnd = next;
      }
      if (hexDigits >= MIN_HEX_DIGITS) {
        sb.append('?');
        return groupEnd;
      }
    }
    int i = start;
    while (i < wordEnd) {
      int b = buf.getByte(i) & 0xff;
      if (isDigit(b)) {
        sb.append('?');
        while (i < wordEnd && isDigit(buf.getByte(i) & 0xff)) {
          i++;
        }
      } else {
        sb.append((char) b);
        i++;
      }
    }
    return wordEnd;
  }

  private static int wordEnd(ByteBuf buf, int i, int end) {
    while (i < end && isAlnum(buf.getByte(i) & 0xff)) {
      i++;
    }
    return i;
  }

  private static boolean isHexWord(ByteBuf buf, int from, int to) {
    for (int i = from; i < to; i++) {
      int b = buf.getByte(i) & 0xff;
      if (!(isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigit(int b) {
    return b >= '0' && b <= '9';
  }

  private static boolean isAlnum(int b) {
    return isDigit(b) || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z';
  }

  private static boolean isPrintable(int b) {
    return b >= 0x20 && b < 0x7f;
  }
}

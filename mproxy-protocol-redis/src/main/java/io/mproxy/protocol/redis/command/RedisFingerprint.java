package io.mproxy.protocol.redis.command;

import io.mproxy.core.fingerprint.ShapeInterner;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
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

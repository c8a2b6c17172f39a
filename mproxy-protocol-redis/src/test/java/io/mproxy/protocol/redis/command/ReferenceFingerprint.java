package io.mproxy.protocol.redis.command;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBuf;

/**
 * The fingerprint algorithm as it was before the per-thread byte scratch (session 8), reading the
 * buffer byte by byte: the oracle {@link RedisFingerprintEquivalenceTest} compares the production
 * {@link RedisFingerprint} against, so that a faster implementation cannot change a result.
 */
final class ReferenceFingerprint {

  static final int MAX_LENGTH = 200;
  private static final int MAX_SHAPES = 3;
  private static final int MAX_KEYS_EXAMINED = 32;
  private static final int MIN_HEX_DIGITS = 8;
  private static final char ELLIPSIS = '\u2026';

  private ReferenceFingerprint() {
  }

  /** The fingerprint of {@code cmd}, described by {@code info} (from {@link RedisCommandTable}). */
  static String of(RespFrame cmd, CommandInfo info) {
    String name = info.name();
    if (!info.hasKeys()) {
      return name;
    }
    int[] keys = info.keyPositions(cmd);
    if (keys.length == 0) {
      return name;
    }
    StringBuilder sb = new StringBuilder();
    sb.append(name);
    int[] starts = new int[MAX_SHAPES];
    int shapes = 0;
    int examined = Math.min(keys.length, MAX_KEYS_EXAMINED);
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
    return sb.toString();
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

package io.mproxy.protocol.redis.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Arrays;

/**
 * An inline command (a line of words, as typed into telnet) split like Redis splits it —
 * whitespace between words, {@code "double quotes"} with backslash escapes ({@code \n \r \t \b
 * \a \xHH}), {@code 'single quotes'} with {@code \'} — and re-encoded as the RESP array a client
 * library would have sent, so everything downstream sees one format.
 */
final class InlineCommand {

  private InlineCommand() {
  }

  /**
   * Parses the line {@code [from, lf)} of {@code in} (absolute indexes, LF excluded).
   *
   * @return the command frame, or null for a blank line (which Redis ignores)
   */
  static RespFrame parse(ByteBufAllocator alloc, ByteBuf in, int from, int lf, int maxFrameBytes) {
    byte[] line = new byte[lf - from];
    in.getBytes(from, line);
    Words words = split(line);
    if (words.count == 0) {
      return null;
    }
    long size = 1 + digits(words.count) + 2;
    for (int i = 0; i < words.count; i++) {
      size += 1 + digits(words.lengths[i]) + 2 + words.lengths[i] + 2;
    }
    if (size > maxFrameBytes) {
      throw new RespCodecException("frame of " + size + " bytes exceeds max " + maxFrameBytes);
    }
    ByteBuf out = alloc.buffer((int) size);
    int[] offsets = new int[words.count];
    RespWriter.arrayHeader(out, words.count);
    for (int i = 0; i < words.count; i++) {
      out.writeByte('$');
      RespWriter.writeDecimal(out, words.lengths[i]);
      out.writeShort(RespWriter.CRLF);
      offsets[i] = out.writerIndex();
      out.writeBytes(words.bytes, words.starts[i], words.lengths[i]);
      out.writeShort(RespWriter.CRLF);
    }
    return new RespFrame(out, words.count, offsets, Arrays.copyOf(words.lengths, words.count));
  }

  /** The words of {@code line}, unquoted, stored back to back in one array. */
  static Words split(byte[] line) {
    Words words = new Words(line.length);
    int p = 0;
    int n = line.length;
    while (true) {
      while (p < n && isSpace(line[p])) {
        p++;
      }
      if (p >= n) {
        return words;
      }
      words.begin();
      boolean inDouble = false;
      boolean inSingle = false;
      boolean done = false;
      while (!done) {
        if (inDouble) {
          if (p >= n) {
            throw unbalanced();
          }
          byte c = line[p];
          if (c == '\\' && p + 3 < n && line[p + 1] == 'x' && isHex(line[p + 2]) && isHex(line[p + 3])) {
            words.append((byte) (hexValue(line[p + 2]) * 16 + hexValue(line[p + 3])));
            p += 3;
          } else if (c == '\\' && p + 1 < n) {
            p++;
            words.append(unescape(line[p]));
          } else if (c == '"') {
            if (p + 1 < n && !isSpace(line[p + 1])) {
              throw unbalanced();
            }
            done = true;
          } else {
            words.append(c);
          }
        } else if (inSingle) {
          if (p >= n) {
            throw unbalanced();
          }
          byte c = line[p];
          if (c == '\\' && p + 1 < n && line[p + 1] == '\'') {
            p++;
            words.append((byte) '\'');
          } else if (c == '\'') {
            if (p + 1 < n && !isSpace(line[p + 1])) {
              throw unbalanced();
            }
            done = true;
          } else {
            words.append(c);
          }
        } else if (p >= n || isSpace(line[p]) || line[p] == 0) {
          done = true;
        } else if (line[p] == '"') {
          inDouble = true;
        } else if (line[p] == '\'') {
          inSingle = true;
        } else {
          words.append(line[p]);
        }
        if (p < n) {
          p++;
        }
      }
      words.end();
    }
  }

  private static RespCodecException unbalanced() {
    return new RespCodecException("unbalanced quotes in request");
  }

  private static byte unescape(byte c) {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'a':
        return 7;
      default:
        return c;
    }
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == '\f';
  }

  private static boolean isHex(byte c) {
    return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
  }

  private static int hexValue(byte c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
  }

  private static int digits(int n) {
    int d = 1;
    while (n >= 10) {
      n /= 10;
      d++;
    }
    return d;
  }

  /** Words stored back to back: word i is {@code bytes[starts[i], starts[i] + lengths[i])}. */
  static final class Words {
    final byte[] bytes;
    int size;
    int count;
    int[] starts = new int[8];
    int[] lengths = new int[8];

    Words(int capacity) {
      bytes = new byte[capacity];
    }

    void begin() {
      if (count == starts.length) {
        starts = Arrays.copyOf(starts, count * 2);
        lengths = Arrays.copyOf(lengths, count * 2);
      }
      starts[count] = size;
    }

    void append(byte b) {
      bytes[size++] = b;
    }

    void end() {
      lengths[count] = size - starts[count];
      count++;
    }
  }
}

package io.mproxy.protocol.redis.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The memo's comparison reads a one-key command's key straight from the buffer's memory or array
 * (a word at a time, the last word read at the key's last eight bytes and shifted), and copies it
 * first only for a buffer with neither (a composite). Every way a key can lie in memory must give
 * the fingerprint of {@link ReferenceFingerprint}: a direct buffer, a heap buffer, either at an
 * odd offset (a slice, as the decoder's read buffer is), and a composite that splits the key
 * anywhere; keys of every length up to the memo's limit, digits and binary bytes, the memo filled
 * by a nearly equal key each time, so that both the hit and the miss are checked.
 */
class RedisFingerprintInPlaceTest {

  private static final RedisCommandTable TABLE = RedisCommandTable.standard();
  /** Untracked: paranoid leak tracking records a trace per byte the reference reads. */
  private static final ByteBufAllocator HEAP = new UnpooledByteBufAllocator(false, true);
  private static final ByteBufAllocator DIRECT = new UnpooledByteBufAllocator(true, true);

  /** Where the command's bytes are put. */
  private enum Layout { DIRECT, HEAP, DIRECT_ODD_SLICE, HEAP_ODD_SLICE, COMPOSITE }

  /**
   * {@code GET key} (or {@code SET key v}) with {@code key}'s bytes, laid out as asked;
   * {@code split} is where a composite cuts the key.
   */
  private static RespFrame frame(String command, byte[] key, Layout layout, int split) {
    String placeholder = "k".repeat(key.length);
    RespFrame model = command.equals("SET")
        ? RespFrame.command(HEAP, "SET", placeholder, "v")
        : RespFrame.command(HEAP, command, placeholder);
    try {
      ByteBuf src = model.content();
      int keyAt = model.argOffset(1);
      byte[] bytes = new byte[src.readableBytes()];
      src.getBytes(0, bytes);
      System.arraycopy(key, 0, bytes, keyAt, key.length);
      ByteBuf content;
      switch (layout) {
        case DIRECT:
          content = DIRECT.directBuffer(bytes.length).writeBytes(bytes);
          break;
        case HEAP:
          content = HEAP.heapBuffer(bytes.length).writeBytes(bytes);
          break;
        case DIRECT_ODD_SLICE:
          content = oddSlice(DIRECT.directBuffer(bytes.length + 3), bytes);
          break;
        case HEAP_ODD_SLICE:
          content = oddSlice(HEAP.heapBuffer(bytes.length + 3), bytes);
          break;
        default: {
          int cut = keyAt + split;
          CompositeByteBuf c = HEAP.compositeBuffer();
          c.addComponent(true, DIRECT.directBuffer(cut).writeBytes(bytes, 0, cut));
          c.addComponent(true, HEAP.heapBuffer(bytes.length - cut).writeBytes(bytes, cut, bytes.length - cut));
          content = c;
          break;
        }
      }
      return model.replace(content);
    } finally {
      model.release();
    }
  }

  /** {@code bytes} at index 0 of a slice that starts three bytes into {@code buf}. */
  private static ByteBuf oddSlice(ByteBuf buf, byte[] bytes) {
    buf.writeBytes(new byte[] {'x', 'y', 'z'}).writeBytes(bytes);
    ByteBuf slice = buf.slice(3, bytes.length);
    return slice;
  }

  private static void check(String command, byte[] key, Layout layout, int split, String context) {
    RespFrame cmd = frame(command, key, layout, split);
    try {
      if (layout == Layout.DIRECT || layout == Layout.DIRECT_ODD_SLICE) {
        assertTrue(cmd.content().hasMemoryAddress(), "a direct buffer read through its address");
      }
      if (layout == Layout.HEAP || layout == Layout.HEAP_ODD_SLICE) {
        assertTrue(cmd.content().hasArray());
      }
      if (layout == Layout.COMPOSITE) {
        assertFalse(cmd.content().hasArray() || cmd.content().hasMemoryAddress(),
            "a composite of two buffers is copied");
      }
      CommandInfo info = TABLE.lookup(cmd);
      assertEquals(ReferenceFingerprint.of(cmd, info), RedisFingerprint.of(cmd, info),
          context + " " + layout + " split " + split + " key " + printable(key));
    } finally {
      cmd.release();
    }
  }

  private static final Layout[] LAYOUTS = Layout.values();

  /** Fills the memo with {@code first} in some layout, then checks {@code second} in every layout. */
  private static void after(String command, byte[] first, byte[] second) {
    for (Layout layout : LAYOUTS) {
      int splits = layout == Layout.COMPOSITE ? second.length + 1 : 1;
      for (int split = 0; split < splits; split++) {
        check(command, first, Layout.HEAP, 0, "memo");
        check(command, second, layout, split, "after " + printable(first));
      }
    }
  }

  @Test
  void everyKeyLengthUpToTheMemosLimitInEveryLayout() {
    for (int length = 1; length <= RedisFingerprint.MEMO_KEY_BYTES; length++) {
      byte[] digits = pattern(length, "u:0123456789/");
      // same pattern (a hit), a letter changed in the last byte (a miss in the tail word),
      // a digit turned into a letter at the first byte (a miss in the first word)
      byte[] sameDigitsMoved = digits.clone();
      for (int i = 0; i < length; i++) {
        if (Character.isDigit(sameDigitsMoved[i])) {
          sameDigitsMoved[i] = (byte) ('0' + (sameDigitsMoved[i] - '0' + 3) % 10);
        }
      }
      after("GET", digits, sameDigitsMoved);
      byte[] lastChanged = digits.clone();
      lastChanged[length - 1] = (byte) (Character.isDigit(lastChanged[length - 1]) ? 'q' : '7');
      after("GET", digits, lastChanged);
      byte[] firstChanged = digits.clone();
      firstChanged[0] = (byte) (Character.isDigit(firstChanged[0]) ? 'q' : '7');
      after("SET", digits, firstChanged);
    }
  }

  @Test
  void binaryKeys() {
    byte[] a = {0, 1, '2', (byte) 0xff, (byte) 0x80, '3', 0x7f, 'k', (byte) 0xc3, (byte) 0xa9, '9'};
    byte[] b = a.clone();
    b[2] = '8';
    b[10] = '0';
    after("GET", a, b);
    byte[] c = a.clone();
    c[3] = (byte) 0xfe;
    after("GET", a, c);
    byte[] d = a.clone();
    d[4] = '5';
    after("GET", a, d);
    after("GET", "k:\u00e9:1".getBytes(StandardCharsets.UTF_8), "k:\u00e8:2".getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A walk of one-byte changes over keys of random length in random layouts, each checked against
   * the reference right after the previous one filled the memo.
   */
  @Test
  void randomWalkInRandomLayouts() {
    Random random = new Random(1428);
    byte[] alphabet = "0123456789abcdefxyz:-/ ".getBytes(StandardCharsets.US_ASCII);
    byte[] key = pattern(16, "key:000000001234");
    for (int step = 0; step < 20_000; step++) {
      if (random.nextInt(200) == 0) {
        key = new byte[1 + random.nextInt(RedisFingerprint.MEMO_KEY_BYTES)];
        for (int i = 0; i < key.length; i++) {
          key[i] = alphabet[random.nextInt(alphabet.length)];
        }
      }
      byte[] next = key.clone();
      int at = random.nextInt(next.length);
      int pick = random.nextInt(alphabet.length + 3);
      next[at] = pick < alphabet.length ? alphabet[pick] : (byte) (0x80 + random.nextInt(0x80));
      Layout layout = LAYOUTS[random.nextInt(LAYOUTS.length)];
      check(step % 3 == 0 ? "SET" : "GET", next, layout, random.nextInt(next.length + 1), "step " + step);
      key = next;
    }
  }

  private static byte[] pattern(int length, String unit) {
    byte[] out = new byte[length];
    byte[] u = unit.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < length; i++) {
      out[i] = u[i % u.length];
    }
    return out;
  }

  private static String printable(byte[] key) {
    List<String> parts = new ArrayList<>();
    for (byte b : key) {
      parts.add(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
    }
    return String.join("", parts);
  }
}

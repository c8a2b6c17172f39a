package io.mproxy.protocol.redis.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fingerprint and the command name must not change when their implementation gets faster:
 * every result is compared with {@link ReferenceFingerprint} (the byte-by-byte algorithm of
 * session 8) and with a plain reading of the name rule, for mixed-case, binary, oversized and
 * hex-heavy names and keys, keys on both sides of the scratch size, several keys per command,
 * and commands borrowed from the middle of a read buffer (as the proxy sees them).
 */
class RedisFingerprintEquivalenceTest {

  private static final RedisCommandTable TABLE = RedisCommandTable.standard();
  private static final String[] NAMES = {
      "GET", "get", "GeT", "SET", "set", "MSET", "mget", "DEL", "del", "HSET", "hGetAll", "EXISTS",
      "XREAD", "client", "OBJECT", "object", "ZUNIONSTORE", "EVAL", "PING", "GETEX", "SORT",
      "GEORADIUS", "MIGRATE"};
  /** Key bytes weighted towards what the shape rules look at. */
  private static final byte[] KEY_BYTES = bytes(
      "0123456789abcdefABCDEFxyzXYZ--::__ .{}\u0000\u0001\u001f\u007f");

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** What {@link RespFrame#commandName()} means: the first 64 bytes, ASCII letters upper-cased, other bytes as Latin-1. */
  private static String expectedName(byte[] name) {
    int length = Math.min(name.length, 64);
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      int b = name[i] & 0xff;
      chars[i] = (char) (b >= 'a' && b <= 'z' ? b - 32 : b);
    }
    return new String(chars);
  }

  private static byte[] encode(List<byte[]> words) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes("*" + words.size() + "\r\n"));
    for (byte[] w : words) {
      out.writeBytes(bytes("$" + w.length + "\r\n"));
      out.writeBytes(w);
      out.writeBytes(bytes("\r\n"));
    }
    return out.toByteArray();
  }

  private static byte[] randomKey(Random random) {
    int kind = random.nextInt(20);
    int length;
    if (kind == 0) {
      // around the scratch size: copied at once below it, read in place above
      length = RedisFingerprint.MAX_KEY_BYTES - 8 + random.nextInt(17);
    } else if (kind == 1) {
      length = 2000 + random.nextInt(3000);
    } else {
      length = random.nextInt(48);
    }
    byte[] key = new byte[length];
    int mode = random.nextInt(4);
    for (int i = 0; i < length; i++) {
      if (mode == 0) {
        key[i] = (byte) random.nextInt(256);
      } else if (mode == 1 && random.nextInt(6) != 0) {
        key[i] = (byte) "0123456789abcdef".charAt(random.nextInt(16));
      } else {
        key[i] = KEY_BYTES[random.nextInt(KEY_BYTES.length)];
      }
    }
    return key;
  }

  private static byte[] randomName(Random random) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      byte[] name = new byte[random.nextInt(100)];
      for (int i = 0; i < name.length; i++) {
        name[i] = (byte) random.nextInt(256);
      }
      return name;
    }
    if (kind == 1) {
      // longer than the 64 bytes a name is cut at, mixed case
      StringBuilder sb = new StringBuilder();
      int length = 60 + random.nextInt(20);
      for (int i = 0; i < length; i++) {
        sb.append(random.nextBoolean() ? (char) ('a' + random.nextInt(26)) : (char) ('A' + random.nextInt(26)));
      }
      return bytes(sb.toString());
    }
    String name = NAMES[random.nextInt(NAMES.length)];
    if (random.nextInt(4) == 0) {
      char[] chars = name.toCharArray();
      for (int i = 0; i < chars.length; i++) {
        chars[i] = random.nextBoolean() ? Character.toLowerCase(chars[i]) : Character.toUpperCase(chars[i]);
      }
      name = new String(chars);
    }
    return bytes(name);
  }

  /** Decodes {@code wire} as the proxy does and checks every command it yields against the references. */
  private static int checkAll(byte[] wire, List<byte[]> names, Random random) {
    List<String> failures = new ArrayList<>();
    int[] seen = {0};
    EmbeddedChannel ch = new EmbeddedChannel(RespFrameDecoder.borrowingCommands(1 << 24, cmd -> {
      try {
        byte[] name = names.get(seen[0]++);
        assertEquals(expectedName(name), cmd.commandName(), "command name");
        CommandInfo info = TABLE.lookup(cmd);
        String expected = ReferenceFingerprint.of(cmd, info);
        String actual = RedisFingerprint.of(cmd, info);
        if (!expected.equals(actual)) {
          failures.add(cmd + ": expected <" + expected + "> but was <" + actual + ">");
        }
        // the same shape comes back as the same string
        assertSame(actual, RedisFingerprint.of(cmd, info));
      } finally {
        cmd.release();
      }
    }));
    // paranoid leak tracking records a trace per byte the reference reads; leaks are covered elsewhere
    ch.config().setAllocator(new UnpooledByteBufAllocator(false, true));
    try {
      int at = 0;
      while (at < wire.length) {
        int n = Math.min(wire.length - at, 1 + random.nextInt(64 * 1024));
        ch.writeInbound(Unpooled.wrappedBuffer(wire, at, n));
        at += n;
      }
    } finally {
      ch.finishAndReleaseAll();
    }
    assertEquals(List.of(), failures);
    assertEquals(names.size(), seen[0]);
    return seen[0];
  }

  @Test
  void randomCommandsGiveTheReferenceFingerprintAndName() {
    Random random = new Random(20261128);
    int checked = 0;
    for (int batch = 0; batch < 40; batch++) {
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      List<byte[]> names = new ArrayList<>();
      for (int c = 0; c < 100; c++) {
        List<byte[]> words = new ArrayList<>();
        byte[] name = randomName(random);
        if (name.length == 0) {
          name = bytes("x");
        }
        words.add(name);
        int args = random.nextInt(8) == 0 ? 1 + random.nextInt(40) : 1 + random.nextInt(3);
        for (int a = 0; a < args; a++) {
          words.add(random.nextInt(5) == 0 ? bytes(String.valueOf(random.nextInt(5))) : randomKey(random));
        }
        names.add(name);
        wire.writeBytes(encode(words));
      }
      checked += checkAll(wire.toByteArray(), names, random);
    }
    assertEquals(4000, checked);
  }

  @Test
  void chosenShapesGiveTheReferenceFingerprint() {
    String[][] commands = {
        {"GET", "user:123:profile"},
        {"get", "obj:550e8400-e29b-41d4-a716-446655440000"},
        {"GET", "dead-beef"},
        {"GET", "dead-beef-"},
        {"GET", "dead-beef-x1"},
        {"GET", "cafe-babe-"},
        {"GET", "ab-cd-ef-01-23"},
        {"GET", "a1b2c3d4e5"},
        {"GET", "x" + "0".repeat(5000)},
        {"GET", "f".repeat(RedisFingerprint.MAX_KEY_BYTES)},
        {"GET", "f".repeat(RedisFingerprint.MAX_KEY_BYTES + 1)},
        {"GET", "k:".repeat(RedisFingerprint.MAX_KEY_BYTES / 2 + 1)},
        {"MSET", "a".repeat(150), "v", "b".repeat(150), "v", "a".repeat(150), "v"},
        {"DEL", "q".repeat(99), "w".repeat(99), "q".repeat(99), "e".repeat(10)},
        {"DEL", "a:1", "b:2", "a:3", "c:4", "d:5"},
        {"MGET", "é:1", "\u0001\u0002", "ü"},
        {"GeoRadius", "geo:1", "0", "0", "1", "km", "STORE", "out:2"},
        {"xread", "count", "1", "streams", "s:1", "s:2", "0", "0"},
    };
    List<byte[]> names = new ArrayList<>();
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    for (String[] command : commands) {
      List<byte[]> words = new ArrayList<>();
      for (String w : command) {
        words.add(w.getBytes(StandardCharsets.UTF_8));
      }
      names.add(words.get(0));
      wire.writeBytes(encode(words));
    }
    assertEquals(commands.length, checkAll(wire.toByteArray(), names, new Random(1)));
  }

  @Test
  void knownResultsStay() {
    // the reference itself is pinned, so that both cannot drift together
    RespFrame cmd = RespFrame.command(io.netty.buffer.ByteBufAllocator.DEFAULT, "hset",
        "session:9f86d081884c7d65", "f", "v");
    try {
      assertEquals("HSET session:?", RedisFingerprint.of(cmd, TABLE.lookup(cmd)));
      assertEquals("HSET session:?", ReferenceFingerprint.of(cmd, TABLE.lookup(cmd)));
      assertEquals("HSET", cmd.commandName());
    } finally {
      cmd.release();
    }
  }
}

package io.mproxy.protocol.redis.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The per-thread memo of one-key fingerprints must answer only for a command whose key has the
 * same pattern as the remembered one (same command, same length, the same bytes but for digits,
 * digits where it had digits): each case below first leaves a nearly equal command in the memo,
 * then checks the next one against {@link ReferenceFingerprint}.
 */
class RedisFingerprintMemoTest {

  private static final RedisCommandTable TABLE = RedisCommandTable.standard();
  /** Paranoid leak tracking records a trace per byte the reference reads; leaks are covered elsewhere. */
  private static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false, true);

  private static String[] fingerprints(String... words) {
    RespFrame cmd = RespFrame.command(ALLOC, words);
    try {
      CommandInfo info = TABLE.lookup(cmd);
      return new String[] {RedisFingerprint.of(cmd, info), ReferenceFingerprint.of(cmd, info)};
    } finally {
      cmd.release();
    }
  }

  /** Fingerprints {@code first} (filling the memo), then checks {@code second} against the reference. */
  private static void after(String[] first, String[] second, String expected) {
    String[] warm = fingerprints(first);
    assertEquals(warm[1], warm[0], String.join(" ", first));
    String[] f = fingerprints(second);
    assertEquals(expected, f[1], "reference of " + String.join(" ", second));
    assertEquals(expected, f[0], String.join(" ", second) + " after " + String.join(" ", first));
  }

  private static String[] c(String... words) {
    return words;
  }

  @Test
  void sameLengthDifferentLettersMiss() {
    after(c("GET", "key:0001"), c("GET", "kez:0001"), "GET kez:?");
    after(c("GET", "user:12:profile"), c("GET", "user:12:profilf"), "GET user:?:profilf");
    after(c("GET", "ab:1"), c("GET", "AB:1"), "GET AB:?");
    after(c("GET", "k:1-x"), c("GET", "k:1:x"), "GET k:?:x");
  }

  @Test
  void digitsAgainstOtherBytesMiss() {
    after(c("GET", "key:1234"), c("GET", "key:12x4"), "GET key:?x?");
    after(c("GET", "key:abcd"), c("GET", "key:ab1d"), "GET key:ab?d");
    after(c("GET", "k:1"), c("GET", "k:\u0001"), "GET k:?");
    after(c("GET", "k1x"), c("GET", "k\u007fx"), "GET k?x");
    after(c("GET", "k\u007fx"), c("GET", "k7x"), "GET k?x");
    after(c("GET", "k/1"), c("GET", "k/:"), "GET k/:");
    // '/' and ':' are the bytes either side of the digits
    after(c("GET", "k:5"), c("GET", "k:/"), "GET k:/");
  }

  @Test
  void hexGroupsStayExact() {
    after(c("GET", "a1b2c3d4e5"), c("GET", "a1b2c3d4e9"), "GET ?");
    after(c("GET", "a1b2c3d4e5"), c("GET", "a1b2c3d4g5"), "GET a?b?c?d?g?");
    after(c("GET", "1234-5678"), c("GET", "1234-567x"), "GET ?-?x");
    after(c("GET", "deadbeef"), c("GET", "deadbee1"), "GET ?");
  }

  @Test
  void otherCommandsAndLengthsMiss() {
    after(c("GET", "user:1"), c("STRLEN", "user:1"), "STRLEN user:?");
    after(c("GET", "user:1"), c("SET", "user:1", "v"), "SET user:?");
    after(c("OBJECT", "ENCODING", "user:7"), c("OBJECT", "FREQ", "user:7"), "OBJECT FREQ user:?");
    after(c("GET", "user:1"), c("GET", "user:12"), "GET user:?");
    after(c("GET", "user:12"), c("GET", "user:a2"), "GET user:a?");
    after(c("GET", "user:1"), c("MGET", "user:1", "x:2"), "MGET user:? x:?");
    after(c("GET", ""), c("GET", "1"), "GET ?");
  }

  /** Some commands share a memo slot for the same key length: each must still get its own name. */
  @Test
  void everyCommandOfTheTableAfterEveryOther() {
    List<String> failures = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      for (CommandInfo info : TABLE.commands()) {
        String[] f = fingerprints(info.name(), "user:1", "2", "3");
        if (!f[1].equals(f[0])) {
          failures.add(info.name() + ": expected <" + f[1] + "> but was <" + f[0] + ">");
        }
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void bytesPastTheKeyInItsLastWordDoNotCount() {
    // the scratch still holds the longer key's bytes past the shorter one's end
    after(c("GET", "12345678:xyzwxyz"), c("GET", "12345678:"), "GET ?:");
    after(c("GET", "12345678:"), c("GET", "12345678;"), "GET ?;");
    after(c("GET", "1234567:zzzzzzzz"), c("GET", "1234567:z"), "GET ?:z");
    after(c("GET", "x".repeat(64)), c("GET", "x".repeat(63) + "1"), "GET " + "x".repeat(63) + "?");
    after(c("GET", "x".repeat(64)), c("GET", "x".repeat(65)), "GET " + "x".repeat(65));
  }

  @Test
  void theSameShapeComesBackAsTheSameString() {
    String first = fingerprints("GET", "key:000000012345")[0];
    assertSame(first, fingerprints("GET", "key:999999999999")[0]);
    assertEquals("GET key:?", first);
  }

  @Test
  void digitBytesMarksExactlyTheAsciiDigits() {
    for (int b = 0; b < 256; b++) {
      for (int at = 0; at < 8; at++) {
        long word = 0x4141414141414141L & ~(0xFFL << (8 * at)) | ((long) b << (8 * at));
        long expected = b >= '0' && b <= '9' ? 0xFFL << (8 * at) : 0;
        assertEquals(expected, RedisFingerprint.digitBytes(word), "byte " + b + " at " + at);
      }
    }
    assertEquals(-1L, RedisFingerprint.digitBytes(0x3938373635343330L));
  }

  /** Walks through keys that mostly differ from the one before in a byte or two, as a memo sees them. */
  @Test
  void nearlyEqualCommandsInARowGiveTheReferenceFingerprint() {
    Random random = new Random(161128);
    String alphabet = "0123456789abcdefxyzABCDEFXYZ:-_./ \u0000\u0001\u007f";
    String[] names = {"GET", "get", "SET", "STRLEN", "INCR", "HGET", "LPUSH", "EXISTS"};
    String name = "GET";
    char[] key = "key:000000012345".toCharArray();
    List<String> failures = new ArrayList<>();
    for (int step = 0; step < 20_000; step++) {
      int what = random.nextInt(10);
      if (what == 0) {
        name = names[random.nextInt(names.length)];
      } else if (what == 1) {
        key = new char[random.nextInt(RedisFingerprint.MEMO_KEY_BYTES + 6)];
        for (int i = 0; i < key.length; i++) {
          key[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
      } else if (key.length > 0) {
        int i = random.nextInt(key.length);
        key[i] = what < 6
            ? (char) ('0' + random.nextInt(10))
            : alphabet.charAt(random.nextInt(alphabet.length()));
      }
      String[] words = name.equals("SET") || name.equals("LPUSH") || name.equals("HGET")
          ? c(name, new String(key), "v") : c(name, new String(key));
      String[] f = fingerprints(words);
      if (!f[1].equals(f[0])) {
        failures.add(String.join(" ", words) + ": expected <" + f[1] + "> but was <" + f[0] + ">");
      }
    }
    assertEquals(List.of(), failures.subList(0, Math.min(failures.size(), 10)));
  }
}

package io.mproxy.protocol.redis.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

class RedisFingerprintTest {

  private static String fingerprint(String... words) {
    RespFrame cmd = RespFrame.command(ByteBufAllocator.DEFAULT, words);
    try {
      return RedisFingerprint.of(cmd, RedisCommandTable.standard().lookup(cmd));
    } finally {
      cmd.release();
    }
  }

  private static String line(String line) {
    return fingerprint(line.split(" "));
  }

  @Test
  void digitsAndHashesBecomePlaceholders() {
    assertEquals("GET user:?:profile", line("GET user:123:profile"));
    assertEquals("get".toUpperCase() + " user:?:profile", line("get user:123:profile"));
    assertEquals("HSET session:?", line("HSET session:9f86d081884c7d65 field value"));
    assertEquals("GET obj:?", line("GET obj:550e8400-e29b-41d4-a716-446655440000"));
    assertEquals("GET order-?", line("GET order-2024-01-05"));
    assertEquals("GET v?:cafe", line("GET v2:cafe"));
    assertEquals("GET a?b?", line("GET a1b2"));
    assertEquals("GET ?", line("GET 12345678"));
    assertEquals("GET ?", line("GET deadbeef"));
    assertEquals("GET item:?:x", line("GET item:DEADBEEF00:x"));
    assertEquals("GET key", line("GET key"));
  }

  @Test
  void severalKeysGiveDistinctShapesUpToThree() {
    assertEquals("MSET a:? b:?", line("MSET a:1 x a:2 y b:3 z"));
    assertEquals("DEL a:? b:? c:? …", line("DEL a:1 b:2 c:3 d:4 a:5"));
    assertEquals("DEL a:? b:? c:?", line("DEL a:1 b:2 c:3 a:4"));
    assertEquals("ZUNIONSTORE out:? in:?", line("ZUNIONSTORE out:1 2 in:1 in:2"));
    assertEquals("XREAD s:?", line("XREAD COUNT 10 STREAMS s:1 s:2 0 0"));
  }

  @Test
  void namesWithoutKeys() {
    assertEquals("PING", line("PING"));
    assertEquals("CLIENT SETNAME", line("client setname app-42"));
    assertEquals("CONFIG GET", line("CONFIG GET maxmemory"));
    assertEquals("OBJECT ENCODING user:?", line("OBJECT ENCODING user:7"));
    assertEquals("XINFO STREAM s:?", line("XINFO STREAM s:12"));
    assertEquals("CLIENT", line("CLIENT WHATEVER"));
    assertEquals("FOO", line("foo a b"));
    assertEquals("EVAL", line("EVAL return 0"));
  }

  @Test
  void binaryAndLongKeysAreBounded() {
    assertEquals("GET k?x", fingerprint("GET", "k\u0001\u0002x"));
    assertEquals("GET caf?", fingerprint("GET", "caf\u00e9"));
    String shape = fingerprint("GET", "k:".repeat(500));
    assertEquals(RedisFingerprint.MAX_LENGTH, shape.length());
    assertTrue(shape.endsWith("…"));
    String many = fingerprint("MGET", "x".repeat(90), "y".repeat(90), "z".repeat(90));
    assertEquals(RedisFingerprint.MAX_LENGTH, many.length());
  }
}

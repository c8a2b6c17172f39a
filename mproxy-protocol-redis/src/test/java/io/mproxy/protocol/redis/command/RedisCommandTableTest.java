package io.mproxy.protocol.redis.command;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.command.CommandInfo.Category;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RedisCommandTableTest {

  private final RedisCommandTable table = RedisCommandTable.standard();

  private static void with(String line, Consumer<RespFrame> check) {
    RespFrame cmd = RespFrame.command(ByteBufAllocator.DEFAULT, line.split(" "));
    try {
      check.accept(cmd);
    } finally {
      cmd.release();
    }
  }

  private void assertKeys(String line, int... expected) {
    with(line, cmd -> assertArrayEquals(expected, table.keyPositions(cmd), line));
  }

  @Test
  void everyCommandIsFoundByFramesInAnyCaseAgainAndAgain() {
    RedisCommandTable table = RedisCommandTable.standard();
    for (int round = 0; round < 3; round++) {
      for (CommandInfo expected : table.commands()) {
        String name = round == 1 ? expected.name().toLowerCase(java.util.Locale.ROOT) : expected.name();
        // a string equal to the frame's but another object must find the same command too
        RespFrame cmd = RespFrame.command(ByteBufAllocator.DEFAULT, new String(name.toCharArray()), "k");
        try {
          CommandInfo info = table.lookup(cmd);
          if (expected.subcommands().length == 0) {
            assertSame(expected, info, name);
          } else {
            assertEquals(expected.name(), info.name().split(" ")[0], name);
          }
        } finally {
          cmd.release();
        }
      }
    }
    RespFrame unknown = RespFrame.command(ByteBufAllocator.DEFAULT, "nosuchcommand", "k");
    try {
      assertEquals("NOSUCHCOMMAND", table.lookup(unknown).name());
      assertFalse(table.lookup(unknown).hasKeys());
    } finally {
      unknown.release();
    }
  }

  @Test
  void keyPositionsOfPlainRanges() {
    assertKeys("GET k", 1);
    assertKeys("get k", 1);
    assertKeys("SET k v EX 10", 1);
    assertKeys("MSET a 1 b 2 c 3", 1, 3, 5);
    assertKeys("MGET a b c", 1, 2, 3);
    assertKeys("DEL a", 1);
    assertKeys("BLPOP a b 0", 1, 2);
    assertKeys("BITOP AND dest a b", 2, 3, 4);
    assertKeys("LMOVE src dst LEFT RIGHT", 1, 2);
    assertKeys("PING");
    assertKeys("GET");
    assertKeys("NOSUCHCOMMAND a b");
  }

  @Test
  void keyPositionsAfterNumkeys() {
    assertKeys("EVAL return 2 k1 k2 a1 a2", 3, 4);
    assertKeys("EVAL return 0 a1", new int[0]);
    assertKeys("EVALSHA abc 1 k1", 3);
    assertKeys("FCALL fn 1 k1 a1", 3);
    assertKeys("ZUNIONSTORE dest 2 a b WEIGHTS 1 2", 1, 3, 4);
    assertKeys("ZINTERSTORE dest 1 a", 1, 3);
    assertKeys("ZDIFF 2 a b WITHSCORES", 2, 3);
    assertKeys("ZINTER 2 a b", 2, 3);
    assertKeys("SINTERCARD 2 a b LIMIT 5", 2, 3);
    assertKeys("LMPOP 2 a b LEFT", 2, 3);
    assertKeys("BLMPOP 0 2 a b LEFT COUNT 1", 3, 4);
    assertKeys("BZMPOP 1 1 z MIN", 3);
    assertKeys("EVAL return 9 k1", 3);
    assertKeys("EVAL return x k1");
    assertKeys("EVAL return -1 k1");
  }

  @Test
  void keyPositionsOfStreams() {
    assertKeys("XREAD STREAMS s1 s2 0 0", 2, 3);
    assertKeys("XREAD COUNT 10 BLOCK 0 STREAMS s1 $", 6);
    assertKeys("xread count 10 streams a b c 0 0 0", 4, 5, 6);
    assertKeys("XREADGROUP GROUP g c COUNT 1 STREAMS s >", 7);
    assertKeys("XREADGROUP GROUP STREAMS BLOCK STREAMS s >", 5);
    assertKeys("XREAD COUNT 10");
  }

  @Test
  void keyPositionsOfOptionKeys() {
    assertKeys("SORT list BY w_* LIMIT 0 10 GET o_* GET # ALPHA STORE dest", 1, 13);
    assertKeys("SORT list GET STORE", 1);
    assertKeys("SORT_RO list BY x", 1);
    assertKeys("GEORADIUS g 15 37 200 km WITHDIST COUNT 5 STORE a STOREDIST b", 1, 10, 12);
    assertKeys("GEORADIUSBYMEMBER g m 200 km STORE dst", 1, 6);
    assertKeys("MIGRATE host 6379 key 0 5000 COPY", 3);
    assertKeys("MIGRATE host 6379 k 0 5000 AUTH2 u KEYS KEYS a", 3, 10);
    assertKeys("OBJECT ENCODING k", 2);
    assertKeys("OBJECT HELP");
    assertKeys("XINFO STREAM s FULL", 2);
    assertKeys("XGROUP CREATE s g $ MKSTREAM", 2);
    assertKeys("MEMORY USAGE k SAMPLES 5", 2);
    assertKeys("WATCH a b", 1, 2);
    assertKeys("SSUBSCRIBE a b", 1, 2);
  }

  @Test
  void migrateEmptyKeyIsNotAKey() {
    RespFrame cmd = RespFrame.command(ByteBufAllocator.DEFAULT,
        "MIGRATE", "h", "1", "", "0", "10", "KEYS", "a", "b");
    try {
      assertArrayEquals(new int[] {7, 8}, table.keyPositions(cmd));
    } finally {
      cmd.release();
    }
  }

  @Test
  void firstKeyPosition() {
    with("MSET a 1 b 2", cmd -> assertEquals(1, table.lookup(cmd).firstKeyPosition(cmd)));
    with("EVAL s 1 k", cmd -> assertEquals(3, table.lookup(cmd).firstKeyPosition(cmd)));
    with("EVAL s 0", cmd -> assertEquals(-1, table.lookup(cmd).firstKeyPosition(cmd)));
    with("PING", cmd -> assertEquals(-1, table.lookup(cmd).firstKeyPosition(cmd)));
    with("GET", cmd -> assertEquals(-1, table.lookup(cmd).firstKeyPosition(cmd)));
    with("XREAD STREAMS s 0", cmd -> assertEquals(2, table.lookup(cmd).firstKeyPosition(cmd)));
  }

  @Test
  void blockingDetection() {
    for (String line : List.of("BLPOP a 0", "BRPOP a 0", "BRPOPLPUSH a b 0",
        "BLMOVE a b LEFT LEFT 0", "BLMPOP 0 1 a LEFT", "BZPOPMIN z 0", "BZPOPMAX z 0",
        "BZMPOP 0 1 z MIN", "WAIT 1 0", "WAITAOF 1 0 0", "XREAD BLOCK 0 STREAMS s $",
        "xread count 1 block 100 streams s $", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >")) {
      with(line, cmd -> assertTrue(table.isBlocking(cmd), line));
    }
    for (String line : List.of("XREAD STREAMS s $", "XREAD COUNT 5 STREAMS BLOCK 0",
        "XREADGROUP GROUP g c STREAMS s >", "XREADGROUP GROUP g BLOCK STREAMS s >",
        "LPOP a", "GET k", "UNKNOWNCMD BLOCK")) {
      with(line, cmd -> assertFalse(table.isBlocking(cmd), line));
    }
  }

  @Test
  void categoriesAndFlags() {
    with("GET k", cmd -> assertEquals(Category.READ, table.lookup(cmd).category()));
    with("SET k v", cmd -> assertTrue(table.lookup(cmd).isWrite()));
    with("CONFIG SET x y", cmd -> assertTrue(table.lookup(cmd).isAdmin()));
    with("SUBSCRIBE ch", cmd -> {
      CommandInfo info = table.lookup(cmd);
      assertTrue(info.isPubsubEnter());
      assertEquals(Category.PUBSUB, info.category());
    });
    with("PSUBSCRIBE ch*", cmd -> assertTrue(table.lookup(cmd).isPubsubEnter()));
    with("SSUBSCRIBE ch", cmd -> assertTrue(table.lookup(cmd).isPubsubEnter()));
    with("UNSUBSCRIBE", cmd -> assertFalse(table.lookup(cmd).isPubsubEnter()));
    for (String name : List.of("MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH")) {
      with(name + " k", cmd -> {
        assertTrue(table.lookup(cmd).isTransaction(), name);
        assertEquals(Category.TRANSACTION, table.lookup(cmd).category());
      });
    }
    with("HELLO 3", cmd -> assertEquals(Category.CONNECTION, table.lookup(cmd).category()));
  }

  @Test
  void subcommandsResolveToTheirOwnInfo() {
    with("client setname app", cmd -> {
      CommandInfo info = table.lookup(cmd);
      assertEquals("CLIENT SETNAME", info.name());
      assertEquals("SETNAME", info.subcommand());
      assertEquals(Category.CONNECTION, info.category());
    });
    with("CLIENT KILL ID 5", cmd -> assertEquals(Category.ADMIN, table.lookup(cmd).category()));
    with("CLIENT NOPE", cmd -> {
      CommandInfo info = table.lookup(cmd);
      assertEquals("CLIENT", info.name());
      assertTrue(info.isContainer());
    });
    with("CLIENT", cmd -> assertEquals("CLIENT", table.lookup(cmd).name()));
    with("SCRIPT LOAD x", cmd -> assertTrue(table.lookup(cmd).isWrite()));
    with("FUNCTION LIST", cmd -> assertTrue(table.lookup(cmd).isRead()));
    assertEquals("CONFIG GET", table.find("config", "get").name());
    assertNull(table.find("config", "nope"));
    assertNull(table.find("nope"));
  }

  @Test
  void unknownCommandsAreConservative() {
    with("FOO.BAR a b", cmd -> {
      CommandInfo info = table.lookup(cmd);
      assertFalse(info.isKnown());
      assertEquals("FOO.BAR", info.name());
      assertEquals(Category.WRITE, info.category());
      assertFalse(info.hasKeys());
      assertEquals(0, info.keyPositions(cmd).length);
    });
  }

  @Test
  void lookupOfKnownCommandsReturnsSharedInstances() {
    with("GET a", a -> with("get b", b -> assertSame(table.lookup(a), table.lookup(b))));
  }

  @Test
  void tableCoversRedis7() {
    assertTrue(table.commands().size() >= 230, "only " + table.commands().size());
    for (String name : List.of("GET", "SET", "HSET", "LPUSH", "SADD", "ZADD", "XADD", "GEOADD",
        "PFADD", "EXPIRE", "EVAL", "FCALL", "PUBLISH", "MULTI", "AUTH", "CONFIG", "LCS",
        "GETEX", "LMPOP", "SINTERCARD", "ZINTERCARD", "EXPIRETIME", "OBJECT", "FUNCTION",
        "WAITAOF", "SPUBLISH", "BITFIELD_RO", "SORT_RO", "EVAL_RO", "HRANDFIELD", "COPY")) {
      assertNotNull(table.find(name), name);
    }
    for (CommandInfo info : table.commands()) {
      assertEquals(info.name().toUpperCase(Locale.ROOT), info.name());
      assertTrue(info.isKnown());
    }
  }
}

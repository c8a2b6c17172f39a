package io.mproxy.protocol.redis.command;

import static io.mproxy.protocol.redis.command.CommandInfo.Category.ADMIN;
import static io.mproxy.protocol.redis.command.CommandInfo.Category.CONNECTION;
import static io.mproxy.protocol.redis.command.CommandInfo.Category.PUBSUB;
import static io.mproxy.protocol.redis.command.CommandInfo.Category.READ;
import static io.mproxy.protocol.redis.command.CommandInfo.Category.TRANSACTION;
import static io.mproxy.protocol.redis.command.CommandInfo.Category.WRITE;

import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.command.CommandInfo.Builder;
import io.mproxy.protocol.redis.command.CommandInfo.Category;
import io.mproxy.protocol.redis.command.CommandInfo.KeyScheme;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The commands of Redis 7 (and the hash-field expiry and stream additions of 7.4/8.x), each with
 * its category, key positions and flags. Commands not in the table get
 * {@link CommandInfo#unknown(String)}: WRITE with no keys, the conservative reading.
 *
 * <p>Lookups allocate nothing for known commands: the name comes from the frame's cached
 * {@link RespFrame#commandName()}, and subcommands are matched in place.
 */
public final class RedisCommandTable {

  private static final RedisCommandTable STANDARD = new RedisCommandTable(standardCommands());

  private final Map<String, CommandInfo> commands;
  /**
   * The last known command looked up in each slot, by the name string the frame gave: shared by
   * every thread without locks (an entry is immutable; a race only costs a map look-up).
   */
  private final Known[] recent = new Known[256];

  private record Known(String name, CommandInfo info) {
  }

  private RedisCommandTable(Builder[] builders) {
    Map<String, CommandInfo> map = new HashMap<>(builders.length * 2);
    for (Builder b : builders) {
      if (map.put(b.name(), b.build()) != null) {
        throw new IllegalStateException("duplicate command " + b.name());
      }
    }
    this.commands = Collections.unmodifiableMap(map);
  }

  /** The table of standard Redis commands. */
  public static RedisCommandTable standard() {
    return STANDARD;
  }

  /**
   * The description of {@code cmd}: for a container ({@code CLIENT}, {@code CONFIG},
   * {@code OBJECT}...) the subcommand named by argument 1 when known, else the container.
   */
  public CommandInfo lookup(RespFrame cmd) {
    String name = cmd.commandName();
    // the frame's names are shared strings (one per name, see RespFrame#commandName), so the
    // command seen last in a slot is found again by identity, without hashing or comparing text
    int slot = name.hashCode() & (recent.length - 1);
    Known known = recent[slot];
    CommandInfo info;
    if (known != null && known.name == name) {
      info = known.info;
    } else {
      info = commands.get(name);
      if (info == null) {
        return CommandInfo.unknown(name);
      }
      recent[slot] = new Known(name, info);
    }
    return info.resolve(cmd);
  }

  /** The top-level command called {@code name} (any case), or null when unknown. */
  public CommandInfo find(String name) {
    return commands.get(name.toUpperCase(Locale.ROOT));
  }

  /** The subcommand {@code sub} of container {@code name} (any case), or null when unknown. */
  public CommandInfo find(String name, String sub) {
    CommandInfo container = find(name);
    if (container == null) {
      return null;
    }
    for (CommandInfo info : container.subcommands()) {
      if (info.subcommand().equalsIgnoreCase(sub)) {
        return info;
      }
    }
    return null;
  }

  /** Positions of the keys of {@code cmd}; see {@link CommandInfo#keyPositions(RespFrame)}. */
  public int[] keyPositions(RespFrame cmd) {
    return lookup(cmd).keyPositions(cmd);
  }

  /** Whether {@code cmd} blocks; see {@link CommandInfo#isBlocking(RespFrame)}. */
  public boolean isBlocking(RespFrame cmd) {
    return lookup(cmd).isBlocking(cmd);
  }

  /** Every top-level command. */
  public Collection<CommandInfo> commands() {
    return commands.values();
  }

  private static Builder c(String name, Category category) {
    return new Builder(name, category);
  }

  /** A command whose only key is argument 1. */
  private static Builder k(String name, Category category) {
    return c(name, category).key(1);
  }

  private static Builder[] standardCommands() {
    return new Builder[] {
        // strings
        k("APPEND", WRITE), k("DECR", WRITE), k("DECRBY", WRITE), k("GET", READ),
        k("GETDEL", WRITE), k("GETEX", WRITE), k("GETRANGE", READ), k("GETSET", WRITE),
        k("INCR", WRITE), k("INCRBY", WRITE), k("INCRBYFLOAT", WRITE),
        c("LCS", READ).keys(1, 2, 1), c("MGET", READ).keys(1, -1, 1),
        c("MSET", WRITE).keys(1, -1, 2), c("MSETNX", WRITE).keys(1, -1, 2),
        k("PSETEX", WRITE), k("SET", WRITE), k("SETEX", WRITE), k("SETNX", WRITE),
        k("SETRANGE", WRITE), k("STRLEN", READ), k("SUBSTR", READ),
        // bitmaps
        k("BITCOUNT", READ), k("BITFIELD", WRITE), k("BITFIELD_RO", READ),
        c("BITOP", WRITE).keys(2, -1, 1), k("BITPOS", READ), k("GETBIT", READ),
        k("SETBIT", WRITE),
        // hashes
        k("HDEL", WRITE), k("HEXISTS", READ), k("HGET", READ), k("HGETALL", READ),
        k("HINCRBY", WRITE), k("HINCRBYFLOAT", WRITE), k("HKEYS", READ), k("HLEN", READ),
        k("HMGET", READ), k("HMSET", WRITE), k("HRANDFIELD", READ), k("HSCAN", READ),
        k("HSET", WRITE), k("HSETNX", WRITE), k("HSTRLEN", READ), k("HVALS", READ),
        k("HEXPIRE", WRITE), k("HPEXPIRE", WRITE), k("HEXPIREAT", WRITE),
        k("HPEXPIREAT", WRITE), k("HPERSIST", WRITE), k("HTTL", READ), k("HPTTL", READ),
        k("HEXPIRETIME", READ), k("HPEXPIRETIME", READ), k("HGETDEL", WRITE),
        k("HGETEX", WRITE), k("HSETEX", WRITE),
        // lists
        c("BLMOVE", WRITE).keys(1, 2, 1).blocking(),
        c("BLMPOP", WRITE).numKeys(2).blocking(),
        c("BLPOP", WRITE).keys(1, -2, 1).blocking(),
        c("BRPOP", WRITE).keys(1, -2, 1).blocking(),
        c("BRPOPLPUSH", WRITE).keys(1, 2, 1).blocking(),
        k("LINDEX", READ), k("LINSERT", WRITE), k("LLEN", READ),
        c("LMOVE", WRITE).keys(1, 2, 1), c("LMPOP", WRITE).numKeys(1), k("LPOP", WRITE),
        k("LPOS", READ), k("LPUSH", WRITE), k("LPUSHX", WRITE), k("LRANGE", READ),
        k("LREM", WRITE), k("LSET", WRITE), k("LTRIM", WRITE), k("RPOP", WRITE),
        c("RPOPLPUSH", WRITE).keys(1, 2, 1), k("RPUSH", WRITE), k("RPUSHX", WRITE),
        // sets
        k("SADD", WRITE), k("SCARD", READ), c("SDIFF", READ).keys(1, -1, 1),
        c("SDIFFSTORE", WRITE).keys(1, -1, 1), c("SINTER", READ).keys(1, -1, 1),
        c("SINTERCARD", READ).numKeys(1), c("SINTERSTORE", WRITE).keys(1, -1, 1),
        k("SISMEMBER", READ), k("SMEMBERS", READ), k("SMISMEMBER", READ),
        c("SMOVE", WRITE).keys(1, 2, 1), k("SPOP", WRITE), k("SRANDMEMBER", READ),
        k("SREM", WRITE), k("SSCAN", READ), c("SUNION", READ).keys(1, -1, 1),
        c("SUNIONSTORE", WRITE).keys(1, -1, 1),
        // sorted sets
        c("BZMPOP", WRITE).numKeys(2).blocking(),
        c("BZPOPMAX", WRITE).keys(1, -2, 1).blocking(),
        c("BZPOPMIN", WRITE).keys(1, -2, 1).blocking(),
        k("ZADD", WRITE), k("ZCARD", READ), k("ZCOUNT", READ), c("ZDIFF", READ).numKeys(1),
        k("ZDIFFSTORE", WRITE).numKeys(2), k("ZINCRBY", WRITE), c("ZINTER", READ).numKeys(1),
        c("ZINTERCARD", READ).numKeys(1), k("ZINTERSTORE", WRITE).numKeys(2),
        k("ZLEXCOUNT", READ), c("ZMPOP", WRITE).numKeys(1), k("ZMSCORE", READ),
        k("ZPOPMAX", WRITE), k("ZPOPMIN", WRITE), k("ZRANDMEMBER", READ), k("ZRANGE", READ),
        k("ZRANGEBYLEX", READ), k("ZRANGEBYSCORE", READ),
        c("ZRANGESTORE", WRITE).keys(1, 2, 1), k("ZRANK", READ), k("ZREM", WRITE),
        k("ZREMRANGEBYLEX", WRITE), k("ZREMRANGEBYRANK", WRITE),
        k("ZREMRANGEBYSCORE", WRITE), k("ZREVRANGE", READ), k("ZREVRANGEBYLEX", READ),
        k("ZREVRANGEBYSCORE", READ), k("ZREVRANK", READ), k("ZSCAN", READ),
        k("ZSCORE", READ), c("ZUNION", READ).numKeys(1), k("ZUNIONSTORE", WRITE).numKeys(2),
        // streams
        k("XACK", WRITE), k("XACKDEL", WRITE), k("XADD", WRITE), k("XAUTOCLAIM", WRITE),
        k("XCLAIM", WRITE), k("XDEL", WRITE), k("XDELEX", WRITE),
        c("XGROUP", WRITE).subcommands(
            c("CREATE", WRITE).key(2), c("CREATECONSUMER", WRITE).key(2),
            c("DELCONSUMER", WRITE).key(2), c("DESTROY", WRITE).key(2),
            c("SETID", WRITE).key(2), c("HELP", CONNECTION)),
        c("XINFO", READ).subcommands(
            c("CONSUMERS", READ).key(2), c("GROUPS", READ).key(2), c("STREAM", READ).key(2),
            c("HELP", CONNECTION)),
        k("XLEN", READ), k("XPENDING", READ), k("XRANGE", READ),
        c("XREAD", READ).streams(1).blockOption(),
        c("XREADGROUP", WRITE).streams(4).blockOption(),
        k("XREVRANGE", READ), k("XSETID", WRITE), k("XTRIM", WRITE),
        // geo
        k("GEOADD", WRITE), k("GEODIST", READ), k("GEOHASH", READ), k("GEOPOS", READ),
        k("GEORADIUS", WRITE).scheme(KeyScheme.GEORADIUS, 6), k("GEORADIUS_RO", READ),
        k("GEORADIUSBYMEMBER", WRITE).scheme(KeyScheme.GEORADIUS, 5),
        k("GEORADIUSBYMEMBER_RO", READ), k("GEOSEARCH", READ),
        c("GEOSEARCHSTORE", WRITE).keys(1, 2, 1),
        // hyperloglog
        k("PFADD", WRITE), c("PFCOUNT", READ).keys(1, -1, 1), c("PFDEBUG", ADMIN).key(2),
        c("PFMERGE", WRITE).keys(1, -1, 1), c("PFSELFTEST", ADMIN),
        // keyspace
        c("COPY", WRITE).keys(1, 2, 1), c("DEL", WRITE).keys(1, -1, 1), k("DUMP", READ),
        c("EXISTS", READ).keys(1, -1, 1), k("EXPIRE", WRITE), k("EXPIREAT", WRITE),
        k("EXPIRETIME", READ), c("KEYS", READ), c("MIGRATE", WRITE).scheme(KeyScheme.MIGRATE, 3),
        k("MOVE", WRITE),
        c("OBJECT", READ).subcommands(
            c("ENCODING", READ).key(2), c("FREQ", READ).key(2), c("IDLETIME", READ).key(2),
            c("REFCOUNT", READ).key(2), c("HELP", CONNECTION)),
        k("PERSIST", WRITE), k("PEXPIRE", WRITE), k("PEXPIREAT", WRITE),
        k("PEXPIRETIME", READ), k("PTTL", READ), c("RANDOMKEY", READ),
        c("RENAME", WRITE).keys(1, 2, 1), c("RENAMENX", WRITE).keys(1, 2, 1),
        k("RESTORE", WRITE), k("RESTORE-ASKING", WRITE), c("SCAN", READ),
        k("SORT", WRITE).scheme(KeyScheme.SORT, 2), k("SORT_RO", READ),
        c("TOUCH", READ).keys(1, -1, 1), k("TTL", READ), k("TYPE", READ),
        c("UNLINK", WRITE).keys(1, -1, 1),
        c("WAIT", CONNECTION).blocking(), c("WAITAOF", CONNECTION).blocking(),
        c("DBSIZE", READ), c("FLUSHALL", WRITE), c("FLUSHDB", WRITE), c("SWAPDB", WRITE),
        // scripting and functions
        c("EVAL", WRITE).numKeys(2), c("EVAL_RO", READ).numKeys(2),
        c("EVALSHA", WRITE).numKeys(2), c("EVALSHA_RO", READ).numKeys(2),
        c("FCALL", WRITE).numKeys(2), c("FCALL_RO", READ).numKeys(2),
        c("FUNCTION", ADMIN).subcommands(
            c("DELETE", WRITE), c("DUMP", READ), c("FLUSH", WRITE), c("HELP", CONNECTION),
            c("KILL", ADMIN), c("LIST", READ), c("LOAD", WRITE), c("RESTORE", WRITE),
            c("STATS", ADMIN)),
        c("SCRIPT", ADMIN).subcommands(
            c("DEBUG", ADMIN), c("EXISTS", READ), c("FLUSH", ADMIN), c("HELP", CONNECTION),
            c("KILL", ADMIN), c("LOAD", WRITE)),
        // pub/sub
        c("PSUBSCRIBE", PUBSUB).pubsubEnter(), c("PUBLISH", PUBSUB),
        c("PUBSUB", PUBSUB).subcommands(
            c("CHANNELS", PUBSUB), c("NUMPAT", PUBSUB), c("NUMSUB", PUBSUB),
            c("SHARDCHANNELS", PUBSUB), c("SHARDNUMSUB", PUBSUB), c("HELP", CONNECTION)),
        c("PUNSUBSCRIBE", PUBSUB), k("SPUBLISH", PUBSUB),
        c("SSUBSCRIBE", PUBSUB).keys(1, -1, 1).pubsubEnter(),
        c("SUBSCRIBE", PUBSUB).pubsubEnter(), c("SUNSUBSCRIBE", PUBSUB).keys(1, -1, 1),
        c("UNSUBSCRIBE", PUBSUB),
        // transactions
        c("DISCARD", TRANSACTION).transaction(), c("EXEC", TRANSACTION).transaction(),
        c("MULTI", TRANSACTION).transaction(), c("UNWATCH", TRANSACTION).transaction(),
        c("WATCH", TRANSACTION).keys(1, -1, 1).transaction(),
        // connection
        c("AUTH", CONNECTION), c("ECHO", CONNECTION), c("HELLO", CONNECTION),
        c("PING", CONNECTION), c("QUIT", CONNECTION), c("RESET", CONNECTION),
        c("SELECT", CONNECTION), c("ASKING", CONNECTION), c("READONLY", CONNECTION),
        c("READWRITE", CONNECTION), c("TIME", CONNECTION),
        c("CLIENT", CONNECTION).subcommands(
            c("CACHING", CONNECTION), c("GETNAME", CONNECTION), c("GETREDIR", CONNECTION),
            c("HELP", CONNECTION), c("ID", CONNECTION), c("INFO", CONNECTION),
            c("KILL", ADMIN), c("LIST", ADMIN), c("NO-EVICT", ADMIN), c("NO-TOUCH", CONNECTION),
            c("PAUSE", ADMIN), c("REPLY", CONNECTION), c("SETINFO", CONNECTION),
            c("SETNAME", CONNECTION), c("TRACKING", CONNECTION),
            c("TRACKINGINFO", CONNECTION), c("UNBLOCK", ADMIN), c("UNPAUSE", ADMIN)),
        c("COMMAND", CONNECTION).subcommands(
            c("COUNT", CONNECTION), c("DOCS", CONNECTION), c("GETKEYS", CONNECTION),
            c("GETKEYSANDFLAGS", CONNECTION), c("HELP", CONNECTION), c("INFO", CONNECTION),
            c("LIST", CONNECTION)),
        // server administration
        c("ACL", ADMIN).subcommands(
            c("CAT", ADMIN), c("DELUSER", ADMIN), c("DRYRUN", ADMIN), c("GENPASS", ADMIN),
            c("GETUSER", ADMIN), c("HELP", CONNECTION), c("LIST", ADMIN), c("LOAD", ADMIN),
            c("LOG", ADMIN), c("SAVE", ADMIN), c("SETUSER", ADMIN), c("USERS", ADMIN),
            c("WHOAMI", CONNECTION)),
        c("BGREWRITEAOF", ADMIN), c("BGSAVE", ADMIN),
        c("CONFIG", ADMIN).subcommands(
            c("GET", ADMIN), c("HELP", CONNECTION), c("RESETSTAT", ADMIN), c("REWRITE", ADMIN),
            c("SET", ADMIN)),
        c("CLUSTER", ADMIN).subcommands(
            c("ADDSLOTS", ADMIN), c("ADDSLOTSRANGE", ADMIN), c("BUMPEPOCH", ADMIN),
            c("COUNT-FAILURE-REPORTS", ADMIN), c("COUNTKEYSINSLOT", ADMIN),
            c("DELSLOTS", ADMIN), c("DELSLOTSRANGE", ADMIN), c("FAILOVER", ADMIN),
            c("FLUSHSLOTS", ADMIN), c("FORGET", ADMIN), c("GETKEYSINSLOT", ADMIN),
            c("HELP", CONNECTION), c("INFO", ADMIN), c("KEYSLOT", ADMIN), c("LINKS", ADMIN),
            c("MEET", ADMIN), c("MYID", ADMIN), c("MYSHARDID", ADMIN), c("NODES", ADMIN),
            c("REPLICAS", ADMIN), c("REPLICATE", ADMIN), c("RESET", ADMIN),
            c("SAVECONFIG", ADMIN), c("SET-CONFIG-EPOCH", ADMIN), c("SETSLOT", ADMIN),
            c("SHARDS", ADMIN), c("SLAVES", ADMIN), c("SLOTS", ADMIN)),
        c("DEBUG", ADMIN), c("FAILOVER", ADMIN), c("INFO", ADMIN), c("LASTSAVE", ADMIN),
        c("LATENCY", ADMIN).subcommands(
            c("DOCTOR", ADMIN), c("GRAPH", ADMIN), c("HELP", CONNECTION), c("HISTOGRAM", ADMIN),
            c("HISTORY", ADMIN), c("LATEST", ADMIN), c("RESET", ADMIN)),
        c("LOLWUT", READ),
        c("MEMORY", ADMIN).subcommands(
            c("DOCTOR", ADMIN), c("HELP", CONNECTION), c("MALLOC-STATS", ADMIN),
            c("PURGE", ADMIN), c("STATS", ADMIN), c("USAGE", READ).key(2)),
        c("MODULE", ADMIN).subcommands(
            c("HELP", CONNECTION), c("LIST", ADMIN), c("LOAD", ADMIN), c("LOADEX", ADMIN),
            c("UNLOAD", ADMIN)),
        c("MONITOR", ADMIN), c("PSYNC", ADMIN), c("REPLCONF", ADMIN), c("REPLICAOF", ADMIN),
        c("ROLE", ADMIN), c("SAVE", ADMIN), c("SHUTDOWN", ADMIN), c("SLAVEOF", ADMIN),
        c("SLOWLOG", ADMIN).subcommands(
            c("GET", ADMIN), c("HELP", CONNECTION), c("LEN", ADMIN), c("RESET", ADMIN)),
        c("SYNC", ADMIN),
    };
  }
}

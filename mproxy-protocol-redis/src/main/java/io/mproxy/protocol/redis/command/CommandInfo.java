package io.mproxy.protocol.redis.command;

import io.mproxy.protocol.redis.codec.RespFrame;
import java.util.Arrays;

/**
 * What the proxy needs to know about one Redis command (or one subcommand of a container such as
 * {@code CLIENT} or {@code CONFIG}): its category, where its keys are, and whether it blocks,
 * enters pub/sub mode or belongs to a transaction. Immutable; built by {@link RedisCommandTable}.
 *
 * <p>Argument positions count the command name as 0, as in Redis' {@code COMMAND INFO}. Keys are
 * found from a range ({@link #firstKey()}, {@link #lastKey()}, {@link #step()}) plus, where a
 * command needs it, a {@code numkeys} argument, the {@code STREAMS} keyword of {@code XREAD}, or
 * key-taking options such as {@code STORE}.
 */
public final class CommandInfo {

  /** What a command does, for metering, routing and policy. */
  public enum Category {
    /** Reads data and changes nothing that is replicated. */
    READ,
    /** May change data (also the conservative choice for unknown commands). */
    WRITE,
    /** Server administration and introspection: config, replication, persistence, ACL, cluster. */
    ADMIN,
    /** Per-connection state and harmless utilities: AUTH, HELLO, SELECT, PING, CLIENT SETNAME. */
    CONNECTION,
    /** MULTI, EXEC, DISCARD, WATCH, UNWATCH. */
    TRANSACTION,
    /** Publishing, subscribing and pub/sub introspection. */
    PUBSUB
  }

  /** How keys beyond the plain range are found. */
  enum KeyScheme {
    RANGE, NUMKEYS, STREAMS, SORT, GEORADIUS, MIGRATE
  }

  private static final int[] NO_KEYS = new int[0];
  private static final CommandInfo[] NO_SUBCOMMANDS = new CommandInfo[0];

  private final String name;
  private final String subcommand;
  private final Category category;
  private final boolean known;
  private final int firstKey;
  /** {@code [firstKey]}, returned for the common one-key command instead of a new array. */
  private final int[] onlyFirstKey;
  private final int lastKey;
  private final int step;
  private final KeyScheme scheme;
  private final int schemeIndex;
  private final boolean blocking;
  private final boolean blockOption;
  private final boolean pubsubEnter;
  private final boolean transaction;
  private final CommandInfo[] subcommands;

  private CommandInfo(Builder b, String name, String subcommand, CommandInfo[] subcommands) {
    this.name = name;
    this.subcommand = subcommand;
    this.category = b.category;
    this.known = b.known;
    this.firstKey = b.firstKey;
    this.onlyFirstKey = b.firstKey > 0 ? new int[] {b.firstKey} : NO_KEYS;
    this.lastKey = b.lastKey;
    this.step = b.step;
    this.scheme = b.scheme;
    this.schemeIndex = b.schemeIndex;
    this.blocking = b.blocking;
    this.blockOption = b.blockOption;
    this.pubsubEnter = b.pubsubEnter;
    this.transaction = b.transaction;
    this.subcommands = subcommands;
  }

  /** The conservative description of a command the table does not know: WRITE, no keys. */
  public static CommandInfo unknown(String name) {
    Builder b = new Builder(name, Category.WRITE);
    b.known = false;
    return b.build();
  }

  /** Upper-case name; for a subcommand the container and subcommand, e.g. {@code CLIENT SETNAME}. */
  public String name() {
    return name;
  }

  /** The subcommand word ({@code SETNAME}), or null for a top-level command. */
  public String subcommand() {
    return subcommand;
  }

  public Category category() {
    return category;
  }

  /** False for the stand-in returned for commands not in the table. */
  public boolean isKnown() {
    return known;
  }

  public boolean isRead() {
    return category == Category.READ;
  }

  public boolean isWrite() {
    return category == Category.WRITE;
  }

  public boolean isAdmin() {
    return category == Category.ADMIN;
  }

  /** Position of the first key of the range, or 0 when the range is empty. */
  public int firstKey() {
    return firstKey;
  }

  /** Position of the last key of the range; negative counts from the end (-1 = last argument). */
  public int lastKey() {
    return lastKey;
  }

  /** Distance between keys of the range (2 for {@code MSET key value key value}). */
  public int step() {
    return step;
  }

  /** Position of the {@code numkeys} argument, or 0 when the command has none. */
  public int numKeysIndex() {
    return scheme == KeyScheme.NUMKEYS ? schemeIndex : 0;
  }

  /** Whether the command can name keys at all. */
  public boolean hasKeys() {
    return firstKey > 0 || scheme != KeyScheme.RANGE;
  }

  /** Whether the command always blocks the connection until data or a timeout (BLPOP, WAIT). */
  public boolean isAlwaysBlocking() {
    return blocking;
  }

  /** Whether the command blocks only with a {@code BLOCK} option (XREAD, XREADGROUP). */
  public boolean hasBlockOption() {
    return blockOption;
  }

  /** Whether this invocation blocks: always-blocking commands, or XREAD/XREADGROUP with BLOCK. */
  public boolean isBlocking(RespFrame cmd) {
    if (blocking) {
      return true;
    }
    if (!blockOption) {
      return false;
    }
    int argc = cmd.argCount();
    for (int i = schemeIndex; i < argc; i++) {
      if (cmd.argEqualsIgnoreCase(i, "STREAMS")) {
        return false;
      }
      if (cmd.argEqualsIgnoreCase(i, "BLOCK")) {
        return true;
      }
    }
    return false;
  }

  /** SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: the connection enters pub/sub mode. */
  public boolean isPubsubEnter() {
    return pubsubEnter;
  }

  /** MULTI, EXEC, DISCARD, WATCH, UNWATCH. */
  public boolean isTransaction() {
    return transaction;
  }

  /** Whether the command is a container of subcommands ({@code CLIENT}, {@code CONFIG}...). */
  public boolean isContainer() {
    return subcommands.length > 0;
  }

  /** The subcommand named by argument 1 of {@code cmd}, or this container itself. */
  CommandInfo resolve(RespFrame cmd) {
    if (subcommands.length == 0 || cmd.argCount() < 2) {
      return this;
    }
    for (CommandInfo sub : subcommands) {
      if (cmd.argEqualsIgnoreCase(1, sub.subcommand)) {
        return sub;
      }
    }
    return this;
  }

  CommandInfo[] subcommands() {
    return subcommands;
  }

  /**
   * Positions of the keys of {@code cmd}, in argument order; an empty shared array when there
   * are none, and a shared one-element array for a single key (callers must not modify the
   * result: this runs for every request). Arguments a malformed command lacks are left out rather than failing: the backend
   * will reject the command anyway.
   */
  public int[] keyPositions(RespFrame cmd) {
    int argc = cmd.argCount();
    int rangeEnd = rangeEnd(argc);
    if (scheme == KeyScheme.RANGE) {
      if (firstKey <= 0 || rangeEnd < firstKey) {
        return NO_KEYS;
      }
      if (rangeEnd - firstKey < step) {
        return onlyFirstKey;
      }
      int[] keys = new int[(rangeEnd - firstKey) / step + 1];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = firstKey + i * step;
      }
      return keys;
    }
    Positions keys = new Positions();
    for (int i = firstKey; firstKey > 0 && i <= rangeEnd; i += step) {
      keys.add(i);
    }
    switch (scheme) {
      case NUMKEYS:
        addNumKeys(cmd, keys);
        break;
      case STREAMS:
        addStreams(cmd, keys);
        break;
      case SORT:
        addOptionKeys(cmd, keys, 2);
        break;
      case GEORADIUS:
        addOptionKeys(cmd, keys, schemeIndex);
        break;
      case MIGRATE:
        addMigrateKeys(cmd, keys);
        break;
      default:
        break;
    }
    return keys.toArray();
  }

  /** Position of the first key of {@code cmd}, or -1 when it has none. */
  public int firstKeyPosition(RespFrame cmd) {
    if (scheme == KeyScheme.RANGE || firstKey > 0 && scheme == KeyScheme.NUMKEYS) {
      return firstKey > 0 && rangeEnd(cmd.argCount()) >= firstKey ? firstKey : -1;
    }
    int[] keys = keyPositions(cmd);
    return keys.length == 0 ? -1 : keys[0];
  }

  private int rangeEnd(int argc) {
    int last = lastKey >= 0 ? lastKey : argc + lastKey;
    return Math.min(last, argc - 1);
  }

  private void addNumKeys(RespFrame cmd, Positions keys) {
    int argc = cmd.argCount();
    if (schemeIndex >= argc) {
      return;
    }
    int n = cmd.argNonNegativeInt(schemeIndex);
    int available = argc - schemeIndex - 1;
    n = Math.min(n, available);
    for (int i = 1; i <= n; i++) {
      keys.add(schemeIndex + i);
    }
  }

  private void addStreams(RespFrame cmd, Positions keys) {
    int argc = cmd.argCount();
    for (int i = schemeIndex; i < argc; i++) {
      if (cmd.argEqualsIgnoreCase(i, "STREAMS")) {
        int n = (argc - i - 1) / 2;
        for (int k = 1; k <= n; k++) {
          keys.add(i + k);
        }
        return;
      }
    }
  }

  /** Keys after {@code STORE}/{@code STOREDIST}, skipping the values of other options. */
  private static void addOptionKeys(RespFrame cmd, Positions keys, int from) {
    int argc = cmd.argCount();
    for (int i = from; i < argc; i++) {
      if (cmd.argEqualsIgnoreCase(i, "STORE") || cmd.argEqualsIgnoreCase(i, "STOREDIST")) {
        if (i + 1 < argc) {
          keys.add(i + 1);
        }
        i++;
      } else if (cmd.argEqualsIgnoreCase(i, "LIMIT")) {
        i += 2;
      } else if (cmd.argEqualsIgnoreCase(i, "BY") || cmd.argEqualsIgnoreCase(i, "GET")
          || cmd.argEqualsIgnoreCase(i, "COUNT")) {
        i++;
      }
    }
  }

  /** {@code MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 u pw] [KEYS k...]}. */
  private static void addMigrateKeys(RespFrame cmd, Positions keys) {
    int argc = cmd.argCount();
    if (argc > 3 && cmd.argLength(3) > 0) {
      keys.add(3);
    }
    for (int i = 6; i < argc; i++) {
      if (cmd.argEqualsIgnoreCase(i, "KEYS")) {
        for (int k = i + 1; k < argc; k++) {
          keys.add(k);
        }
        return;
      } else if (cmd.argEqualsIgnoreCase(i, "AUTH")) {
        i++;
      } else if (cmd.argEqualsIgnoreCase(i, "AUTH2")) {
        i += 2;
      }
    }
  }

  @Override
  public String toString() {
    return "CommandInfo(" + name + ", " + category + (known ? "" : ", unknown") + ")";
  }

  /** A growable list of positions. */
  private static final class Positions {
    private int[] values = new int[8];
    private int size;

    void add(int position) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = position;
    }

    int[] toArray() {
      return size == 0 ? NO_KEYS : Arrays.copyOf(values, size);
    }
  }

  /** Describes a command for {@link RedisCommandTable}. */
  static final class Builder {
    private final String name;
    private final Category category;
    private boolean known = true;
    private int firstKey;
    private int lastKey;
    private int step = 1;
    private KeyScheme scheme = KeyScheme.RANGE;
    private int schemeIndex;
    private boolean blocking;
    private boolean blockOption;
    private boolean pubsubEnter;
    private boolean transaction;
    private Builder[] subcommands;

    Builder(String name, Category category) {
      this.name = name;
      this.category = category;
    }

    /** One key at {@code position}. */
    Builder key(int position) {
      return keys(position, position, 1);
    }

    Builder keys(int first, int last, int step) {
      this.firstKey = first;
      this.lastKey = last;
      this.step = step;
      return this;
    }

    /** Keys follow a count at {@code index}: {@code EVAL script numkeys key...}. */
    Builder numKeys(int index) {
      return scheme(KeyScheme.NUMKEYS, index);
    }

    /** Keys are the first half of the arguments after {@code STREAMS}, searched from {@code from}. */
    Builder streams(int from) {
      return scheme(KeyScheme.STREAMS, from);
    }

    Builder scheme(KeyScheme scheme, int index) {
      this.scheme = scheme;
      this.schemeIndex = index;
      return this;
    }

    Builder blocking() {
      this.blocking = true;
      return this;
    }

    Builder blockOption() {
      this.blockOption = true;
      return this;
    }

    Builder pubsubEnter() {
      this.pubsubEnter = true;
      return this;
    }

    Builder transaction() {
      this.transaction = true;
      return this;
    }

    Builder subcommands(Builder... subcommands) {
      this.subcommands = subcommands;
      return this;
    }

    String name() {
      return name;
    }

    CommandInfo build() {
      CommandInfo[] subs = NO_SUBCOMMANDS;
      if (subcommands != null) {
        subs = new CommandInfo[subcommands.length];
        for (int i = 0; i < subs.length; i++) {
          Builder sub = subcommands[i];
          subs[i] = new CommandInfo(sub, name + " " + sub.name, sub.name, NO_SUBCOMMANDS);
        }
      }
      return new CommandInfo(this, name, null, subs);
    }
  }
}

package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespFrame;
import java.util.HashSet;
import java.util.Set;

/**
 * The channels, patterns and shard channels a pinned client is subscribed to, as the commands
 * it sent will leave them. Used to know how many confirmations each (un)subscribe produces and
 * when the connection leaves pub/sub mode. Bounded: a client may not hold more than
 * {@link #MAX_SUBSCRIPTIONS} subscriptions through the proxy.
 */
final class Subscriptions {

  static final int MAX_SUBSCRIPTIONS = 100_000;

  private final Set<String> channels = new HashSet<>();
  private final Set<String> patterns = new HashSet<>();
  private final Set<String> shardChannels = new HashSet<>();

  boolean active() {
    return !channels.isEmpty() || !patterns.isEmpty() || !shardChannels.isEmpty();
  }

  int size() {
    return channels.size() + patterns.size() + shardChannels.size();
  }

  /** Whether {@code name} is one of the (un)subscribe commands. */
  static boolean isSubscriptionCommand(String name) {
    return kind(name) != Kind.NONE;
  }

  static boolean isSubscribe(String name) {
    return name.equals("SUBSCRIBE") || name.equals("PSUBSCRIBE") || name.equals("SSUBSCRIBE");
  }

  /** Whether applying {@code cmd} would exceed the subscription cap. */
  boolean wouldOverflow(RespFrame cmd) {
    return isSubscribe(cmd.commandName()) && size() + cmd.argCount() - 1 > MAX_SUBSCRIPTIONS;
  }

  /**
   * Applies an (un)subscribe command and returns how many reply frames the server sends for it:
   * one per named channel, or for a bare unsubscribe one per current subscription of that kind
   * (at least one).
   */
  int apply(RespFrame cmd) {
    String name = cmd.commandName();
    Set<String> target = target(name);
    int args = cmd.argCount() - 1;
    if (target == null) {
      return 1;
    }
    if (isSubscribe(name)) {
      if (args == 0) {
        return 1;
      }
      for (int i = 1; i <= args; i++) {
        target.add(cmd.argString(i));
      }
      return args;
    }
    if (args == 0) {
      int n = Math.max(1, target.size());
      target.clear();
      return n;
    }
    for (int i = 1; i <= args; i++) {
      target.remove(cmd.argString(i));
    }
    return args;
  }

  void clear() {
    channels.clear();
    patterns.clear();
    shardChannels.clear();
  }

  private Set<String> target(String name) {
    switch (kind(name)) {
      case CHANNELS:
        return channels;
      case PATTERNS:
        return patterns;
      case SHARD:
        return shardChannels;
      default:
        return null;
    }
  }

  private enum Kind { NONE, CHANNELS, PATTERNS, SHARD }

  private static Kind kind(String name) {
    switch (name) {
      case "SUBSCRIBE":
      case "UNSUBSCRIBE":
        return Kind.CHANNELS;
      case "PSUBSCRIBE":
      case "PUNSUBSCRIBE":
        return Kind.PATTERNS;
      case "SSUBSCRIBE":
      case "SUNSUBSCRIBE":
        return Kind.SHARD;
      default:
        return Kind.NONE;
    }
  }
}

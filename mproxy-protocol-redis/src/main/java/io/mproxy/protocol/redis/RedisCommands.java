package io.mproxy.protocol.redis;

import io.mproxy.core.request.RequestKind;
import io.mproxy.protocol.redis.command.CommandInfo;

/** Maps the command table's categories onto the core's request kinds. */
final class RedisCommands {

  private RedisCommands() {
  }

  static RequestKind kind(CommandInfo info) {
    switch (info.category()) {
      case READ:
        return RequestKind.READ;
      case WRITE:
        return RequestKind.WRITE;
      case TRANSACTION:
        return RequestKind.TRANSACTION_CONTROL;
      case ADMIN:
        return RequestKind.ADMIN;
      case CONNECTION:
      case PUBSUB:
      default:
        return RequestKind.SESSION;
    }
  }
}

package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespFrame;

/**
 * Where the replies to one command sent on a backend connection go. Called on the backend
 * connection's event loop; the sink takes ownership of each frame it is given.
 */
interface ReplySink {

  /** How many reply frames the command produces (SUBSCRIBE a b c: three; CLIENT REPLY OFF: none). */
  int expectedReplies();

  /** Whether the connection is in pub/sub mode while this command's replies arrive. */
  boolean pubsubDuring();

  /** Whether the connection is in pub/sub mode once this command has completed. */
  boolean pubsubAfter();

  /** Whether the connection streams MONITOR output once this command has completed. */
  boolean monitorAfter();

  /** One reply frame; {@code last} when it is the final one this command produces. */
  void reply(RespFrame frame, boolean last);

  /** The connection failed before all replies arrived. */
  void failed(Throwable cause);
}

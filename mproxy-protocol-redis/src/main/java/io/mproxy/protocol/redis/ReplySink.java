package io.mproxy.protocol.redis;

import io.netty.buffer.ByteBuf;

/**
 * Where the replies to one command sent on a backend connection go. Called on the backend
 * connection's event loop. A reply is handed over as a position in the connection's read buffer,
 * not as a frame: a sink whose client is waiting for exactly this reply copies it once into the
 * client's outgoing buffer; any other keeps a retained slice.
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

  /**
   * One reply: {@code length} bytes of {@code in} from absolute index {@code index}, valid during
   * this call only (the sink neither releases {@code in} nor moves its indexes); {@code type} is
   * the value's type byte ({@code -} or {@code !} for an error). {@code in} is null, with no
   * bytes, for a command that produces no reply. {@code last} when it is the final one this
   * command produces.
   */
  void reply(ByteBuf in, int index, int length, byte type, boolean last);

  /** The connection failed before all replies arrived. */
  void failed(Throwable cause);

  /** Whether a reply of {@code type} is an error reply. */
  static boolean isError(byte type) {
    return type == '-' || type == '!';
  }
}

package io.mproxy.protocol.redis.codec;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * The one error type of the RESP codec: malformed or oversized input. Its message is short and
 * client-safe, so a session can answer {@code -ERR Protocol error: <message>} and close.
 */
public final class RespCodecException extends CorruptedFrameException {

  private static final long serialVersionUID = 1L;

  public RespCodecException(String message) {
    super(message);
  }
}

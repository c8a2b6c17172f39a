package io.mproxy.protocol.mongo.codec;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * The one error type of the Mongo codec: malformed or oversized input. Its message is short and
 * client-safe; {@link #requestId()} is the id of the offending message when its header was read
 * (so the error reply can answer it), else 0.
 */
public final class MongoCodecException extends CorruptedFrameException {

  private static final long serialVersionUID = 1L;

  private final int requestId;

  public MongoCodecException(String message) {
    this(message, 0);
  }

  public MongoCodecException(String message, int requestId) {
    super(message);
    this.requestId = requestId;
  }

  public int requestId() {
    return requestId;
  }
}

package io.mproxy.protocol.cassandra.codec;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * The one error type of the CQL codec: malformed, oversized or unsupported input. It carries
 * what a session needs to answer in the client's own terms before it closes the connection: the
 * protocol version to answer in (with the frame header layout of that version) and the stream
 * the bad frame named, when they are known.
 */
public final class CqlCodecException extends CorruptedFrameException {

  private static final long serialVersionUID = 1L;

  private final int replyVersion;
  private final int stream;

  /**
   * @param replyVersion the protocol version to answer in (1..5), or 0 for the connection's own
   * @param stream the stream id to answer on (0 when unknown)
   */
  public CqlCodecException(String message, int replyVersion, int stream) {
    super(message);
    this.replyVersion = replyVersion;
    this.stream = stream;
  }

  public int replyVersion() {
    return replyVersion;
  }

  public int stream() {
    return stream;
  }
}

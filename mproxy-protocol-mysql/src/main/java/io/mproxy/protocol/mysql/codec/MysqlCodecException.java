package io.mproxy.protocol.mysql.codec;

import io.netty.handler.codec.DecoderException;

/**
 * Bytes that break the MySQL framing rules (a packet past the size limit, a sequence id out of
 * order). Carries the server error code the client is told before the connection closes.
 */
public final class MysqlCodecException extends DecoderException {

  private static final long serialVersionUID = 1L;

  private final int errorCode;

  public MysqlCodecException(int errorCode, String message) {
    super(message);
    this.errorCode = errorCode;
  }

  /** The MySQL error code for the ERR packet (1153 too large, 1156 out of order). */
  public int errorCode() {
    return errorCode;
  }
}

package io.mproxy.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * A message of the start-up phase, which has no type byte: StartupMessage, SSLRequest,
 * GSSENCRequest or CancelRequest, told apart by {@link #code()}. Owns {@link #body()} (the bytes
 * after the code).
 */
public final class StartupPacket extends AbstractReferenceCounted {

  public static final int PROTOCOL_3_0 = 196608;
  public static final int SSL_REQUEST = 80877103;
  public static final int GSSENC_REQUEST = 80877104;
  public static final int CANCEL_REQUEST = 80877102;

  private final int code;
  private final ByteBuf body;

  public StartupPacket(int code, ByteBuf body) {
    this.code = code;
    this.body = body;
  }

  public int code() {
    return code;
  }

  public ByteBuf body() {
    return body;
  }

  @Override
  protected void deallocate() {
    body.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    body.touch(hint);
    return this;
  }
}

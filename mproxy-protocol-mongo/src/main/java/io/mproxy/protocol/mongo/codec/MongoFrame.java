package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * One whole wire-protocol message: the 16-byte header's fields and the message's bytes
 * (header included), forwarded untouched when the proxy does not need to change them. Owns one
 * reference of {@link #content()}; whoever receives a frame releases it.
 */
public final class MongoFrame extends AbstractReferenceCounted {

  /** Bytes of the standard message header. */
  public static final int HEADER_BYTES = 16;

  private final ByteBuf content;
  private final int requestId;
  private final int responseTo;
  private final int opCode;

  public MongoFrame(ByteBuf content) {
    this.content = content;
    int base = content.readerIndex();
    this.requestId = content.getIntLE(base + 4);
    this.responseTo = content.getIntLE(base + 8);
    this.opCode = content.getIntLE(base + 12);
  }

  /** The whole message, header included, from its reader index. */
  public ByteBuf content() {
    return content;
  }

  public int size() {
    return content.readableBytes();
  }

  public int requestId() {
    return requestId;
  }

  public int responseTo() {
    return responseTo;
  }

  public int opCode() {
    return opCode;
  }

  @Override
  protected void deallocate() {
    content.release();
  }

  @Override
  public ReferenceCounted touch(Object hint) {
    content.touch(hint);
    return this;
  }

  @Override
  public String toString() {
    return "MongoFrame[" + OpCode.name(opCode) + " id=" + requestId + " responseTo=" + responseTo
        + " bytes=" + content.readableBytes() + "]";
  }
}

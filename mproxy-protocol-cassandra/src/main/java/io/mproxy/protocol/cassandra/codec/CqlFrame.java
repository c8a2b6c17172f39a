package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;

/**
 * One CQL message (a "frame" in v4, an "envelope" inside v5 segments): the 9-byte header fields
 * and the body, which the proxy forwards without decoding it beyond what it needs. The body is a
 * retained buffer owned by whoever holds the frame: {@link #release()} it exactly once, or hand
 * it on.
 *
 * @param version the protocol version without the direction bit (4 or 5)
 * @param response whether the frame travels server to client (direction bit 0x80)
 */
public record CqlFrame(int version, boolean response, int flags, int stream, int opcode, ByteBuf body) {

  public static final int HEADER_BYTES = 9;

  public static final int FLAG_COMPRESSION = 0x01;
  public static final int FLAG_TRACING = 0x02;
  public static final int FLAG_CUSTOM_PAYLOAD = 0x04;
  public static final int FLAG_WARNING = 0x08;
  public static final int FLAG_BETA = 0x10;

  /** Header plus body bytes. */
  public int size() {
    return HEADER_BYTES + body.readableBytes();
  }

  /** The same message on another stream; shares (and takes over) the body. */
  public CqlFrame withStream(int newStream) {
    return new CqlFrame(version, response, flags, newStream, opcode, body);
  }

  /** The same header with another body (the old one is not released). */
  public CqlFrame withBody(ByteBuf newBody) {
    return new CqlFrame(version, response, flags, stream, opcode, newBody);
  }

  public void release() {
    body.release();
  }

  /** Writes the 9-byte header of this frame. */
  public void writeHeader(ByteBuf out) {
    out.writeByte(response ? version | 0x80 : version)
        .writeByte(flags)
        .writeShort(stream)
        .writeByte(opcode)
        .writeInt(body.readableBytes());
  }

  @Override
  public String toString() {
    return "CqlFrame[v" + version + (response ? " response" : " request") + " stream=" + stream
        + " opcode=" + CqlOpcode.name(opcode) + " flags=0x" + Integer.toHexString(flags)
        + " body=" + body.readableBytes() + "]";
  }
}

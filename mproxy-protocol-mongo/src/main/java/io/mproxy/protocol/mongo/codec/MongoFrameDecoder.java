package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a wire-protocol byte stream into {@link MongoFrame}s by the {@code messageLength} at
 * the start of every header, without decoding bodies. The length is checked against
 * {@code maxMessageBytes} as soon as its four bytes arrive, so an oversized message is refused
 * before any of it is buffered. Bad input raises {@link MongoCodecException}, after which the
 * decoder discards everything it is given.
 *
 * <p>Frames hold a retained slice of the cumulation buffer: forwarding one copies nothing.
 */
public final class MongoFrameDecoder extends ByteToMessageDecoder {

  private enum State {
    /** Waiting for (the rest of) a header. */
    HEADER,
    /** The header was read and checked; waiting for {@code length} bytes in all. */
    BODY,
    /** After an error: everything is discarded. */
    BAD
  }

  private final int maxMessageBytes;
  private State state = State.HEADER;
  private int length;

  /** @param maxMessageBytes the largest whole message (header included) accepted */
  public MongoFrameDecoder(int maxMessageBytes) {
    if (maxMessageBytes < MongoFrame.HEADER_BYTES) {
      throw new IllegalArgumentException("maxMessageBytes: " + maxMessageBytes + " (expected: >= 16)");
    }
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (true) {
      switch (state) {
        case BAD:
          in.skipBytes(in.readableBytes());
          return;
        case HEADER:
          if (in.readableBytes() < 4) {
            return;
          }
          length = in.getIntLE(in.readerIndex());
          if (length < MongoFrame.HEADER_BYTES || length > maxMessageBytes) {
            int requestId = in.readableBytes() >= 8 ? in.getIntLE(in.readerIndex() + 4) : 0;
            fail(in);
            throw new MongoCodecException(length < MongoFrame.HEADER_BYTES
                ? "message length " + length + " is shorter than a header"
                : "message length " + length + " exceeds maxMessageSizeBytes " + maxMessageBytes,
                requestId);
          }
          state = State.BODY;
          break;
        case BODY:
          if (in.readableBytes() < length) {
            return;
          }
          ByteBuf frame = in.readRetainedSlice(length);
          state = State.HEADER;
          out.add(new MongoFrame(frame));
          break;
        default:
          throw new IllegalStateException(String.valueOf(state));
      }
    }
  }

  private void fail(ByteBuf in) {
    state = State.BAD;
    in.skipBytes(in.readableBytes());
  }
}

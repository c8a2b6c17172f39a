package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a CQL byte stream into {@link CqlFrame}s, for protocol v4 and v5, in either direction.
 *
 * <p>{@link State#LEGACY} reads plain frames: a 9-byte header and a body. Every v4 message and
 * the start of a v5 connection (OPTIONS, STARTUP and the server's answer to STARTUP) travel so.
 * After that a v5 connection switches to {@link State#SEGMENTS} (the session or backend handler
 * calls {@link #switchToSegments()} at the point the protocol defines): segments of up to
 * 128 KiB - 1 with a 6-byte header (17-bit length, self-contained bit, CRC24) and a CRC32
 * trailer, carrying either whole envelopes (self-contained) or one slice of a larger one.
 *
 * <p>LZ4 ({@link #compression(boolean)}, set when STARTUP negotiated it): a v4 frame with the
 * compression flag has a body of a 4-byte big-endian uncompressed length and an LZ4 block; a v5
 * connection uses the compressed segment layout (an 8-byte header: 17-bit payload length, 17-bit
 * uncompressed length, 0 meaning "stored uncompressed", the self-contained bit, CRC24; the CRC32
 * covers the compressed payload). Frames leave the decoder decompressed and without the flag.
 * Sizes are checked before anything is decompressed: a v4 body's declared uncompressed length
 * against {@code maxFrameBytes}, a v5 segment's is at most 128 KiB - 1 by its 17 bits, and the
 * envelopes inside against {@code maxFrameBytes} as for uncompressed ones.
 *
 * <p>Checks: the direction bit, the version (4 or 5, then always the connection's first one),
 * opcodes valid for the direction, non-negative client stream ids, bodies at most
 * {@code maxFrameBytes}, both CRCs. A violation raises {@link CqlCodecException} (with the version
 * and stream to answer on), after which the decoder discards everything it is given. A version
 * the proxy does not speak is reported the way Cassandra does it, so drivers downgrade: a newer
 * one is answered in v5, an older one in its own version and header layout.
 *
 * <p>Frame bodies are retained slices of the input (no copy) except for envelopes that span
 * segments, which are assembled in one buffer.
 */
public final class CqlFrameDecoder extends ByteToMessageDecoder {

  /** Which framing the decoder reads now. */
  public enum State { LEGACY, SEGMENTS, BAD }

  public static final int MIN_VERSION = 4;
  public static final int MAX_VERSION = 5;
  public static final int MAX_SEGMENT_PAYLOAD = (1 << 17) - 1;
  static final int SEGMENT_HEADER_BYTES = 6;
  static final int LZ4_SEGMENT_HEADER_BYTES = 8;
  static final int SEGMENT_TRAILER_BYTES = 4;
  static final String SUPPORTED = "4/v4, 5/v5";

  private final boolean responses;
  private final int maxFrameBytes;
  private State state = State.LEGACY;
  private int version;
  private boolean lz4;
  /** The part of an envelope that spans segments, gathered so far; null when none. */
  private ByteBuf spanning;

  /**
   * @param responses true to read what servers send (backend side), false for client requests
   * @param maxFrameBytes the largest body accepted
   */
  public CqlFrameDecoder(boolean responses, int maxFrameBytes) {
    this.responses = responses;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** From the next byte on, the stream is made of v5 segments. */
  public void switchToSegments() {
    if (state == State.LEGACY) {
      state = State.SEGMENTS;
    }
  }

  /**
   * Whether LZ4 is in use from the next byte on: v4 frames may carry the compression flag, and
   * v5 segments (after {@link #switchToSegments()}) use the compressed layout.
   */
  public void compression(boolean on) {
    lz4 = on;
  }

  public boolean compression() {
    return lz4;
  }

  public State state() {
    return state;
  }

  /** The connection's protocol version, 0 before the first frame. */
  public int version() {
    return version;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (state == State.BAD) {
      in.skipBytes(in.readableBytes());
      return;
    }
    try {
      if (state == State.LEGACY) {
        decodeLegacy(in, out);
      } else {
        decodeSegment(in, out);
      }
    } catch (CqlCodecException e) {
      state = State.BAD;
      in.skipBytes(in.readableBytes());
      releaseSpanning();
      throw e;
    }
  }

  private void decodeLegacy(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 4) {
      return;
    }
    int start = in.readerIndex();
    int first = in.getUnsignedByte(start);
    int v = first & 0x7F;
    int stream = v >= 3 ? in.getShort(start + 2) : in.getByte(start + 2);
    checkVersion(first, v, stream);
    if (in.readableBytes() < CqlFrame.HEADER_BYTES) {
      return;
    }
    int length = checkHeader(in, start, stream);
    if (in.readableBytes() < CqlFrame.HEADER_BYTES + length) {
      return;
    }
    if ((in.getUnsignedByte(start + 1) & CqlFrame.FLAG_COMPRESSION) != 0) {
      if (!lz4) {
        throw new CqlCodecException("compressed frame on a connection without compression", v, stream);
      }
      out.add(decompressedFrameAt(in, start, stream, length));
    } else {
      out.add(frameAt(in, start, stream, length));
    }
    in.skipBytes(CqlFrame.HEADER_BYTES + length);
    if (version == 0) {
      version = v;
    }
  }

  private void checkVersion(int first, int v, int stream) {
    boolean responseBit = (first & 0x80) != 0;
    if (responseBit != responses) {
      throw new CqlCodecException((responses ? "expected a response" : "expected a request")
          + " frame, got version byte 0x" + Integer.toHexString(first), replyVersionFor(v), stream);
    }
    if (v < MIN_VERSION || v > MAX_VERSION) {
      throw new CqlCodecException("Invalid or unsupported protocol version (" + v
          + "); supported versions are (" + SUPPORTED + ")", replyVersionFor(v), stream);
    }
    if (version != 0 && v != version) {
      throw new CqlCodecException("Invalid message version. Got " + v
          + " but previous messages on this connection had version " + version, version, stream);
    }
  }

  /** Cassandra answers a newer version in its newest, an older one in the client's. */
  private static int replyVersionFor(int v) {
    if (v > MAX_VERSION || v == 0) {
      return MAX_VERSION;
    }
    return v;
  }

  /** Validates the 9-byte header at {@code start}; returns the body length. */
  private int checkHeader(ByteBuf in, int start, int stream) {
    int opcode = in.getUnsignedByte(start + 4);
    int length = in.getInt(start + 5);
    int v = in.getUnsignedByte(start) & 0x7F;
    if (!(responses ? CqlOpcode.isResponse(opcode) : CqlOpcode.isRequest(opcode))) {
      throw new CqlCodecException("Unknown opcode " + opcode, v, stream);
    }
    if (!responses && stream < 0) {
      throw new CqlCodecException("stream id " + stream + " out of range (client streams are 0..32767)", v, 0);
    }
    if (length < 0 || length > maxFrameBytes) {
      throw new CqlCodecException("Request is too big: length " + Integer.toUnsignedString(length)
          + " exceeds maximum allowed length " + maxFrameBytes, v, stream);
    }
    return length;
  }

  private CqlFrame frameAt(ByteBuf in, int start, int stream, int length) {
    int first = in.getUnsignedByte(start);
    int flags = in.getUnsignedByte(start + 1);
    if (state == State.SEGMENTS) {
      // v5 compresses segments, not envelopes; the Java driver still flags its envelopes when
      // compression is on: the flag means nothing here and must not travel on to the other side
      flags &= ~CqlFrame.FLAG_COMPRESSION;
    }
    return new CqlFrame(first & 0x7F, (first & 0x80) != 0, flags, stream,
        in.getUnsignedByte(start + 4), in.retainedSlice(start + CqlFrame.HEADER_BYTES, length));
  }

  /** A v4 frame whose body is [uncompressed length][LZ4 block]: the limit is checked first. */
  private CqlFrame decompressedFrameAt(ByteBuf in, int start, int stream, int length) {
    int first = in.getUnsignedByte(start);
    int v = first & 0x7F;
    if (length < 4) {
      throw new CqlCodecException("compressed frame body shorter than its length prefix", v, stream);
    }
    int body = start + CqlFrame.HEADER_BYTES;
    long uncompressed = in.getUnsignedInt(body);
    if (uncompressed > maxFrameBytes) {
      throw new CqlCodecException("Request is too big: uncompressed length " + uncompressed
          + " exceeds maximum allowed length " + maxFrameBytes, v, stream);
    }
    ByteBuf plain = Lz4.decompress(in.alloc(), in, body + 4, length - 4, (int) uncompressed, v, stream);
    return new CqlFrame(v, (first & 0x80) != 0, in.getUnsignedByte(start + 1) & ~CqlFrame.FLAG_COMPRESSION,
        stream, in.getUnsignedByte(start + 4), plain);
  }

  // ------------------------------------------------------------------ v5 segments

  private void decodeSegment(ByteBuf in, List<Object> out) {
    int headerBytes = lz4 ? LZ4_SEGMENT_HEADER_BYTES : SEGMENT_HEADER_BYTES;
    int dataBytes = headerBytes - 3;
    while (in.readableBytes() >= headerBytes) {
      int start = in.readerIndex();
      long header = lz4
          ? in.getUnsignedIntLE(start) | (long) in.getUnsignedByte(start + 4) << 32
          : in.getUnsignedMediumLE(start);
      int crc24 = in.getUnsignedMediumLE(start + dataBytes);
      if (Crc.crc24(in, start, dataBytes) != crc24) {
        throw new CqlCodecException("segment header CRC24 mismatch", version, 0);
      }
      int length = (int) header & MAX_SEGMENT_PAYLOAD;
      int uncompressed = lz4 ? (int) (header >>> 17) & MAX_SEGMENT_PAYLOAD : 0;
      boolean selfContained = (header >>> (lz4 ? 34 : 17) & 1) != 0;
      int total = headerBytes + length + SEGMENT_TRAILER_BYTES;
      if (in.readableBytes() < total) {
        return;
      }
      int payload = start + headerBytes;
      int crc32 = in.getIntLE(payload + length);
      if (Crc.crc32(in, payload, length) != crc32) {
        throw new CqlCodecException("segment payload CRC32 mismatch", version, 0);
      }
      if (uncompressed == 0) {
        segmentPayload(in, payload, length, selfContained, out);
      } else {
        ByteBuf plain = Lz4.decompress(in.alloc(), in, payload, length, uncompressed, version, 0);
        try {
          segmentPayload(plain, 0, uncompressed, selfContained, out);
        } finally {
          plain.release();
        }
      }
      in.readerIndex(start + total);
    }
  }

  private void segmentPayload(ByteBuf in, int from, int length, boolean selfContained, List<Object> out) {
    if (selfContained) {
      if (spanning != null) {
        throw new CqlCodecException("self-contained segment inside a spanning envelope", version, 0);
      }
      envelopes(in, from, length, out);
    } else {
      gather(in, from, length, out);
    }
  }

  /** Whole envelopes packed in one self-contained segment payload. */
  private void envelopes(ByteBuf in, int from, int length, List<Object> out) {
    int at = from;
    int end = from + length;
    while (at < end) {
      if (end - at < CqlFrame.HEADER_BYTES) {
        throw new CqlCodecException("self-contained segment ends inside an envelope header", version, 0);
      }
      int stream = in.getShort(at + 2);
      int first = in.getUnsignedByte(at);
      checkVersion(first, first & 0x7F, stream);
      int bodyLength = checkHeader(in, at, stream);
      if (end - at - CqlFrame.HEADER_BYTES < bodyLength) {
        throw new CqlCodecException("self-contained segment ends inside an envelope body", version, stream);
      }
      out.add(frameAt(in, at, stream, bodyLength));
      at += CqlFrame.HEADER_BYTES + bodyLength;
    }
  }

  /** One slice of an envelope larger than a segment. */
  private void gather(ByteBuf in, int from, int length, List<Object> out) {
    if (spanning == null) {
      if (length < CqlFrame.HEADER_BYTES) {
        throw new CqlCodecException("first segment of a spanning envelope is shorter than its header", version, 0);
      }
      int stream = in.getShort(from + 2);
      int first = in.getUnsignedByte(from);
      checkVersion(first, first & 0x7F, stream);
      int bodyLength = checkHeader(in, from, stream);
      spanning = in.alloc().buffer(CqlFrame.HEADER_BYTES + bodyLength);
    }
    if (spanning.writableBytes() < length) {
      throw new CqlCodecException("segment runs past the end of its envelope", version, 0);
    }
    spanning.writeBytes(in, from, length);
    if (spanning.isWritable()) {
      return;
    }
    ByteBuf whole = spanning;
    spanning = null;
    try {
      out.add(frameAt(whole, 0, whole.getShort(2), whole.readableBytes() - CqlFrame.HEADER_BYTES));
    } finally {
      whole.release();
    }
  }

  private void releaseSpanning() {
    if (spanning != null) {
      spanning.release();
      spanning = null;
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    releaseSpanning();
  }
}

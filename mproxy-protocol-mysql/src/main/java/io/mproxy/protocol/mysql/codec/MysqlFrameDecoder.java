package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Stage one of the MySQL protocol: finds packet boundaries (3-byte little-endian length,
 * 1-byte sequence id) and joins 16 MB continuation packets into one {@link MysqlPacket}. A
 * packet whose length would pass {@code maxPacketBytes} is refused from its header, before its
 * body is buffered; continuation packets must carry consecutive sequence ids. Either error is a
 * {@link MysqlCodecException}, after which every further byte is discarded (the session answers
 * with an ERR and closes).
 */
public final class MysqlFrameDecoder extends ByteToMessageDecoder {

  /** MySQL's ER_NET_PACKET_TOO_LARGE. */
  public static final int ER_NET_PACKET_TOO_LARGE = 1153;
  /** MySQL's ER_NET_PACKETS_OUT_OF_ORDER. */
  public static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;

  private enum State { HEADER, FAILED }

  private final long maxPacketBytes;
  /** Emit whole packets of one read as one retained slice (a run) instead of a MysqlPacket each. */
  private final boolean runs;
  private final List<ByteBuf> continued = new ArrayList<>();
  private long continuedBytes;
  private State state = State.HEADER;

  public MysqlFrameDecoder(long maxPacketBytes) {
    this(maxPacketBytes, false);
  }

  /**
   * With {@code runs}, the complete packets below 16 MB that are read together are emitted as one
   * retained slice of the read buffer (a {@link ByteBuf} holding whole wire packets, headers
   * included) instead of one {@link MysqlPacket} each: a backend answer of several packets costs
   * one object per read, not two per packet. 16 MB continuation packets are still joined into a
   * {@link MysqlPacket}.
   */
  public MysqlFrameDecoder(long maxPacketBytes, boolean runs) {
    if (maxPacketBytes <= 0) {
      throw new IllegalArgumentException("maxPacketBytes: " + maxPacketBytes + " (expected: > 0)");
    }
    this.maxPacketBytes = maxPacketBytes;
    this.runs = runs;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (state == State.FAILED) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < 4) {
      return;
    }
    if (runs && continued.isEmpty()) {
      int whole = wholePackets(in);
      if (whole > 0) {
        out.add(in.readRetainedSlice(whole));
        return;
      }
    }
    int at = in.readerIndex();
    int len = in.getUnsignedMediumLE(at);
    int seq = in.getUnsignedByte(at + 3);
    if (!continued.isEmpty()) {
      ByteBuf prev = continued.get(continued.size() - 1);
      int expected = (prev.getUnsignedByte(prev.readerIndex() + 3) + 1) & 0xFF;
      if (seq != expected) {
        fail(in, ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order (continuation packet has"
            + " sequence id " + seq + ", expected " + expected + ")");
      }
    }
    if (continuedBytes + len > maxPacketBytes) {
      fail(in, ER_NET_PACKET_TOO_LARGE, "Got a packet bigger than 'max_allowed_packet' bytes ("
          + (continuedBytes + len) + " > " + maxPacketBytes + ")");
    }
    if (in.readableBytes() < 4 + len) {
      return;
    }
    ByteBuf frame = in.readRetainedSlice(4 + len);
    if (len == MysqlPacket.MAX_CHUNK) {
      continued.add(frame);
      continuedBytes += len;
      return;
    }
    if (continued.isEmpty()) {
      out.add(MysqlPacket.single(frame));
      return;
    }
    continued.add(frame);
    List<ByteBuf> frames = new ArrayList<>(continued);
    continued.clear();
    continuedBytes = 0;
    out.add(MysqlPacket.joined(ctx.alloc(), frames));
  }

  /**
   * How many bytes from the reader index are complete packets below 16 MB within the limit (the
   * first packet that is not stops the run: it takes the packet-at-a-time path).
   */
  private int wholePackets(ByteBuf in) {
    int at = in.readerIndex();
    int end = in.writerIndex();
    while (end - at >= 4) {
      int len = in.getUnsignedMediumLE(at);
      if (len == MysqlPacket.MAX_CHUNK || len > maxPacketBytes || end - at - 4 < len) {
        break;
      }
      at += 4 + len;
    }
    return at - in.readerIndex();
  }

  /**
   * Hands over the bytes received after the last decoded packet, which this decoder then no longer
   * sees. A client sends its TLS ClientHello right behind the SSLRequest without waiting for an
   * answer, so both can arrive in one read: those bytes belong to the TLS handler put in front of
   * this decoder, not to the MySQL framing (read as a packet header they would stall the login).
   */
  public ByteBuf takeBuffered(ByteBufAllocator alloc) {
    ByteBuf in = internalBuffer();
    if (!in.isReadable()) {
      return Unpooled.EMPTY_BUFFER;
    }
    ByteBuf copy = alloc.buffer(in.readableBytes());
    copy.writeBytes(in);
    return copy;
  }

  private void fail(ByteBuf in, int code, String message) {
    state = State.FAILED;
    in.skipBytes(in.readableBytes());
    releaseContinued();
    throw new MysqlCodecException(code, message);
  }

  private void releaseContinued() {
    continued.forEach(ByteBuf::release);
    continued.clear();
    continuedBytes = 0;
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    releaseContinued();
  }
}

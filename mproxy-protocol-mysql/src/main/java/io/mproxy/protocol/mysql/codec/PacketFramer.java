package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side's packet framing without a decoder stage: the session hands it each read
 * ({@link #add}) and takes the complete packets out ({@link #poll}) itself, so a command costs no
 * pipeline hop and no decoder output list. A read that is exactly one packet (a client's usual
 * command) becomes that packet without a slice of it. Same rules as {@link MysqlFrameDecoder}: a
 * packet over the limit is refused from its header, before its body is buffered; 16 MB
 * continuation packets are joined and must carry consecutive sequence ids; after either error
 * ({@link MysqlCodecException}) every further byte is dropped.
 */
public final class PacketFramer {

  private final long maxPacketBytes;
  private final List<ByteBuf> continued = new ArrayList<>();
  private long continuedBytes;
  /** Bytes read but not framed yet (null: none). */
  private ByteBuf cumulation;
  private boolean failed;

  public PacketFramer(long maxPacketBytes) {
    if (maxPacketBytes <= 0) {
      throw new IllegalArgumentException("maxPacketBytes: " + maxPacketBytes + " (expected: > 0)");
    }
    this.maxPacketBytes = maxPacketBytes;
  }

  /** Appends one read (owned) to what is waiting to be framed. */
  public void add(ByteBufAllocator alloc, ByteBuf in) {
    if (failed || !in.isReadable()) {
      in.release();
      return;
    }
    ByteBuf cum = cumulation;
    if (cum == null) {
      cumulation = in;
      return;
    }
    try {
      if (cum.refCnt() == 1 && !cum.isReadOnly() && cum.maxWritableBytes() >= in.readableBytes()) {
        cum.discardSomeReadBytes();
        cum.writeBytes(in, in.readerIndex(), in.readableBytes());
        return;
      }
      int need = cum.readableBytes() + in.readableBytes();
      ByteBuf merged = alloc.ioBuffer(Math.max(need, Math.min(2 * need, need + 65536)));
      merged.writeBytes(cum, cum.readerIndex(), cum.readableBytes());
      merged.writeBytes(in, in.readerIndex(), in.readableBytes());
      cum.release();
      cumulation = merged;
    } finally {
      in.release();
    }
  }

  /**
   * The next complete packet (owned by the caller), or null until more bytes arrive.
   *
   * @throws MysqlCodecException for a packet over the limit or continuation packets out of order
   */
  public MysqlPacket poll(ByteBufAllocator alloc) {
    while (true) {
      ByteBuf buf = cumulation;
      if (failed || buf == null || buf.readableBytes() < 4) {
        return null;
      }
      int at = buf.readerIndex();
      int len = buf.getUnsignedMediumLE(at);
      MysqlCodecException bad = checkHeader(buf, continued, continuedBytes, maxPacketBytes);
      if (bad != null) {
        failed = true;
        release();
        throw bad;
      }
      int size = 4 + len;
      if (buf.readableBytes() < size) {
        return null;
      }
      ByteBuf frame;
      if (buf.readableBytes() == size) {
        // the read is exactly this packet: it is the packet's buffer, no slice of it
        cumulation = null;
        frame = buf;
      } else {
        frame = buf.readRetainedSlice(size);
      }
      if (len == MysqlPacket.MAX_CHUNK) {
        continued.add(frame);
        continuedBytes += len;
        continue;
      }
      if (continued.isEmpty()) {
        return MysqlPacket.single(frame);
      }
      continued.add(frame);
      List<ByteBuf> frames = new ArrayList<>(continued);
      continued.clear();
      continuedBytes = 0;
      return MysqlPacket.joined(alloc, frames);
    }
  }

  /**
   * The next complete packet in place: {@code view} (a {@link MysqlPacket#borrowedView()}) pointed
   * at it in the read buffer, valid until {@link #giveBack}; or, for 16 MB continuation packets,
   * a joined packet owned by the caller; or null until more bytes arrive. A read that is exactly
   * the packet is held by the view itself (the framer no longer has it); else the framer's
   * buffer has moved past the packet before the caller sees it, so nothing the caller does with
   * the view changes the framing.
   *
   * @throws MysqlCodecException for a packet over the limit or continuation packets out of order
   */
  public MysqlPacket poll(ByteBufAllocator alloc, MysqlPacket view) {
    ByteBuf buf = cumulation;
    if (failed || buf == null || buf.readableBytes() < 4 || !continued.isEmpty()) {
      return poll(alloc);
    }
    int at = buf.readerIndex();
    int len = buf.getUnsignedMediumLE(at);
    if (len == MysqlPacket.MAX_CHUNK || len > maxPacketBytes) {
      return poll(alloc);
    }
    int size = 4 + len;
    int readable = buf.readableBytes();
    if (readable < size) {
      return null;
    }
    if (readable == size) {
      cumulation = null;
      view.borrow(buf, at, size, true, alloc);
    } else {
      buf.skipBytes(size);
      view.borrow(buf, at, size, false, alloc);
    }
    return view;
  }

  /** The caller of {@link #poll(ByteBufAllocator, MysqlPacket)} is done with {@code view}. */
  public void giveBack(MysqlPacket view) {
    view.unborrow();
  }

  /**
   * Hands over the bytes received after the last packet taken, which this framer then no longer
   * sees (a TLS ClientHello that came in the same read as the SSLRequest belongs to the TLS
   * handler, not to the MySQL framing).
   */
  public ByteBuf takeBuffered() {
    ByteBuf buf = cumulation;
    cumulation = null;
    if (buf == null) {
      return Unpooled.EMPTY_BUFFER;
    }
    if (!buf.isReadable()) {
      buf.release();
      return Unpooled.EMPTY_BUFFER;
    }
    return buf;
  }

  /** Releases whatever is buffered (the channel is gone). */
  public void release() {
    continued.forEach(ByteBuf::release);
    continued.clear();
    continuedBytes = 0;
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
  }

  /**
   * The framing rules for the packet header at {@code buf}'s reader index (at least 4 readable
   * bytes), after the 16 MB pieces already in {@code continued} ({@code continuedBytes} of
   * payload): a continuation must carry the next sequence id, and the packet must not take the
   * total over {@code maxPacketBytes}. Returns the error to fail with, or null. Shared with the
   * backend handler, which frames its connection's bytes the same way.
   */
  public static MysqlCodecException checkHeader(ByteBuf buf, List<ByteBuf> continued, long continuedBytes,
      long maxPacketBytes) {
    int at = buf.readerIndex();
    int len = buf.getUnsignedMediumLE(at);
    int seq = buf.getUnsignedByte(at + 3);
    if (!continued.isEmpty()) {
      ByteBuf prev = continued.get(continued.size() - 1);
      int expected = (prev.getUnsignedByte(prev.readerIndex() + 3) + 1) & 0xFF;
      if (seq != expected) {
        return new MysqlCodecException(MysqlFrameDecoder.ER_NET_PACKETS_OUT_OF_ORDER, "Got packets out of order"
            + " (continuation packet has sequence id " + seq + ", expected " + expected + ")");
      }
    }
    if (continuedBytes + len > maxPacketBytes) {
      return new MysqlCodecException(MysqlFrameDecoder.ER_NET_PACKET_TOO_LARGE, "Got a packet bigger than"
          + " 'max_allowed_packet' bytes (" + (continuedBytes + len) + " > " + maxPacketBytes + ")");
    }
    return null;
  }
}

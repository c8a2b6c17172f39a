package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.util.List;

/**
 * One logical MySQL packet: the payload of one wire packet, or of a run of 16 MB continuation
 * packets joined. It keeps the original bytes with their headers ({@link #raw()}) so that the
 * proxy forwards exactly what it read, and a view of the joined payload for the little decoding
 * it does. It owns one reference to its buffers; {@link #release()} gives it up.
 */
public final class MysqlPacket {

  /** The largest payload of one wire packet; a packet this long is continued by the next. */
  public static final int MAX_CHUNK = 0xFF_FFFF;

  private final ByteBuf raw;
  /** Null for a single wire packet until {@link #payload()} is asked for (most never are). */
  private ByteBuf payload;
  private final boolean separatePayload;
  private final int sequenceId;
  private final int lastSequenceId;

  private MysqlPacket(ByteBuf raw, ByteBuf payload, boolean separatePayload, int sequenceId,
      int lastSequenceId) {
    this.raw = raw;
    this.payload = payload;
    this.separatePayload = separatePayload;
    this.sequenceId = sequenceId;
    this.lastSequenceId = lastSequenceId;
  }

  /** Wraps one complete wire packet (header included); takes ownership of {@code frame}. */
  public static MysqlPacket single(ByteBuf frame) {
    int seq = frame.getUnsignedByte(frame.readerIndex() + 3);
    return new MysqlPacket(frame, null, false, seq, seq);
  }

  /** Joins continuation frames (headers included); takes ownership of every frame. */
  public static MysqlPacket joined(ByteBufAllocator alloc, List<ByteBuf> frames) {
    CompositeByteBuf raw = alloc.compositeBuffer(frames.size());
    CompositeByteBuf payload = alloc.compositeBuffer(frames.size());
    for (ByteBuf f : frames) {
      payload.addComponent(true, f.retainedSlice(f.readerIndex() + 4, f.readableBytes() - 4));
      raw.addComponent(true, f);
    }
    ByteBuf first = frames.get(0);
    ByteBuf last = frames.get(frames.size() - 1);
    return new MysqlPacket(raw, payload, true, first.getUnsignedByte(first.readerIndex() + 3),
        last.getUnsignedByte(last.readerIndex() + 3));
  }

  /**
   * Frames {@code payload} (split into continuation packets when it is 16 MB or more) starting at
   * sequence id {@code seq}; takes ownership of {@code payload}.
   */
  public static MysqlPacket frame(ByteBufAllocator alloc, int seq, ByteBuf payload) {
    int len = payload.readableBytes();
    if (len < MAX_CHUNK) {
      ByteBuf raw = alloc.buffer(4 + len);
      raw.writeMediumLE(len).writeByte(seq);
      raw.writeBytes(payload);
      payload.release();
      return single(raw);
    }
    CompositeByteBuf raw = alloc.compositeBuffer();
    int s = seq;
    int off = payload.readerIndex();
    int left = len;
    while (true) {
      int chunk = Math.min(MAX_CHUNK, left);
      ByteBuf header = alloc.buffer(4).writeMediumLE(chunk).writeByte(s & 0xFF);
      raw.addComponent(true, header);
      raw.addComponent(true, payload.retainedSlice(off, chunk));
      off += chunk;
      left -= chunk;
      if (chunk < MAX_CHUNK) {
        break;
      }
      s++;
    }
    return new MysqlPacket(raw, payload, true, seq & 0xFF, s & 0xFF);
  }

  /** The sequence id of the first wire packet. */
  public int sequenceId() {
    return sequenceId;
  }

  /** The sequence id of the last wire packet (differs from the first only for joined packets). */
  public int lastSequenceId() {
    return lastSequenceId;
  }

  /** The logical payload (a view, made on first use; do not release). */
  public ByteBuf payload() {
    ByteBuf p = payload;
    if (p == null) {
      p = raw.slice(raw.readerIndex() + 4, raw.readableBytes() - 4);
      payload = p;
    }
    return p;
  }

  /**
   * The buffer that holds the payload contiguously, for reading it in place with absolute
   * indexes from {@link #payloadIndex()}: the wire bytes for one wire packet (no view made), the
   * joined payload for continuation packets.
   */
  public ByteBuf payloadBuffer() {
    return separatePayload ? payload : raw;
  }

  /** Where the payload starts in {@link #payloadBuffer()}. */
  public int payloadIndex() {
    return separatePayload ? payload.readerIndex() : raw.readerIndex() + 4;
  }

  /** The payload length. */
  public int length() {
    return separatePayload ? payload.readableBytes() : raw.readableBytes() - 4;
  }

  /** The first payload byte (the command, or the OK/ERR/EOF header), or -1 when empty. */
  public int header() {
    if (length() == 0) {
      return -1;
    }
    ByteBuf b = payloadBuffer();
    return b.getUnsignedByte(payloadIndex());
  }

  /** The wire bytes with headers (a view; do not release). */
  public ByteBuf raw() {
    return raw;
  }

  /** The wire bytes as a new reference, for writing to a channel; the packet stays owned. */
  public ByteBuf retainedRaw() {
    return raw.retainedDuplicate();
  }

  /** Gives the wire bytes away (for writing) and ends this packet. */
  public ByteBuf takeRaw() {
    if (separatePayload) {
      payload.release();
    }
    return raw;
  }

  public void release() {
    raw.release();
    if (separatePayload) {
      payload.release();
    }
  }

  @Override
  public String toString() {
    return "MysqlPacket[seq=" + sequenceId + " len=" + length() + " header=0x"
        + Integer.toHexString(Math.max(0, header())) + "]";
  }
}

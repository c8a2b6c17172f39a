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

  private ByteBuf raw;
  /** Null for a single wire packet until {@link #payload()} is asked for (most never are). */
  private ByteBuf payload;
  private final boolean separatePayload;
  private int sequenceId;
  private int lastSequenceId;
  /** A framer's reusable in-place view (see the class comment); the fields below are its own. */
  private final boolean borrowed;
  /** Borrowed: where the wire packet starts in {@link #raw}, and its size with the header. */
  private int base;
  private int size;
  /** Borrowed: the view holds the read buffer itself (the read was exactly this packet). */
  private boolean ownsBuffer;
  /** Borrowed: the bytes were given away ({@link #takeRaw()}) or kept ({@link #keep()}). */
  private boolean taken;
  private ByteBufAllocator alloc;

  private MysqlPacket(ByteBuf raw, ByteBuf payload, boolean separatePayload, int sequenceId,
      int lastSequenceId) {
    this.raw = raw;
    this.payload = payload;
    this.separatePayload = separatePayload;
    this.sequenceId = sequenceId;
    this.lastSequenceId = lastSequenceId;
    this.borrowed = false;
  }

  private MysqlPacket() {
    this.separatePayload = false;
    this.borrowed = true;
  }

  /** A reusable view for {@link PacketFramer#poll(ByteBufAllocator, MysqlPacket)}; points at nothing yet. */
  public static MysqlPacket borrowedView() {
    return new MysqlPacket();
  }

  /**
   * Points this borrowed view at the wire packet of {@code size} bytes at {@code base} in
   * {@code buf}; {@code owns}: the view holds {@code buf}'s reference (the whole buffer is the
   * packet) until {@link #unborrow}.
   */
  void borrow(ByteBuf buf, int base, int size, boolean owns, ByteBufAllocator alloc) {
    this.raw = buf;
    this.base = base;
    this.size = size;
    this.ownsBuffer = owns;
    this.taken = false;
    this.alloc = alloc;
    int seq = buf.getUnsignedByte(base + 3);
    this.sequenceId = seq;
    this.lastSequenceId = seq;
  }

  /** The framer's caller is done with this view: it points at nothing again. */
  void unborrow() {
    ByteBuf b = raw;
    raw = null;
    alloc = null;
    if (b != null && ownsBuffer && !taken) {
      b.release();
    }
  }

  /** Whether this is a framer's borrowed view, valid only while its caller handles it. */
  public boolean isBorrowed() {
    return borrowed;
  }

  /**
   * A packet that may be kept: this one when it is an ordinary packet; for a borrowed view, a new
   * ordinary packet of the same bytes (the read buffer itself when the read was exactly this
   * packet, else a retained slice of it). The view may not be given away after this.
   */
  public MysqlPacket keep() {
    if (!borrowed) {
      return this;
    }
    ByteBuf b = borrowedBuffer();
    taken = true;
    return single(ownsBuffer ? b : b.retainedSlice(base, size));
  }

  private ByteBuf borrowedBuffer() {
    ByteBuf b = raw;
    if (b == null) {
      throw new IllegalStateException("a borrowed MySQL packet used after the framer took it back");
    }
    if (taken) {
      throw new IllegalStateException("a borrowed MySQL packet given away twice");
    }
    return b;
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
    if (borrowed) {
      return live().slice(base + 4, size - 4);
    }
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
    if (borrowed) {
      return live();
    }
    return separatePayload ? payload : raw;
  }

  /** Where the payload starts in {@link #payloadBuffer()}. */
  public int payloadIndex() {
    if (borrowed) {
      return base + 4;
    }
    return separatePayload ? payload.readerIndex() : raw.readerIndex() + 4;
  }

  /** The payload length. */
  public int length() {
    if (borrowed) {
      return size - 4;
    }
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
    if (borrowed) {
      return live().slice(base, size);
    }
    return raw;
  }

  /** The wire bytes as a new reference, for writing to a channel; the packet stays owned. */
  public ByteBuf retainedRaw() {
    if (borrowed) {
      return live().retainedSlice(base, size);
    }
    return raw.retainedDuplicate();
  }

  /**
   * Gives the wire bytes away (for writing) and ends this packet. A borrowed view gives the read
   * buffer itself when the read was exactly this packet, else a copy of the packet's bytes (the
   * read buffer stays the framer's); at most once.
   */
  public ByteBuf takeRaw() {
    if (borrowed) {
      ByteBuf b = borrowedBuffer();
      taken = true;
      if (ownsBuffer) {
        return b;
      }
      return alloc.ioBuffer(size).writeBytes(b, base, size);
    }
    if (separatePayload) {
      payload.release();
    }
    return raw;
  }

  public void release() {
    if (borrowed) {
      return;   // the framer's bytes until it takes the view back
    }
    raw.release();
    if (separatePayload) {
      payload.release();
    }
  }

  /** The borrowed view's buffer while it is lent. */
  private ByteBuf live() {
    ByteBuf b = raw;
    if (b == null) {
      throw new IllegalStateException("a borrowed MySQL packet used after the framer took it back");
    }
    return b;
  }

  @Override
  public String toString() {
    return "MysqlPacket[seq=" + sequenceId + " len=" + length() + " header=0x"
        + Integer.toHexString(Math.max(0, header())) + "]";
  }
}

package io.mproxy.core.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

/**
 * Gathers the small buffers one channel is given during an event-loop tick into one contiguous
 * buffer, so that the flush at the end of the tick hands the kernel one buffer instead of an
 * iovec (and a Netty outbound entry) per reply or command. A pipelining client's sixteen GET
 * replies, or sixteen clients' commands bound for one backend connection, are each a few bytes:
 * copying them is cheaper than sixteen outbound entries, sixteen reference counts and a sixteen-
 * element {@code writev}.
 *
 * <p>The first part of a tick is kept as it is and written untouched when it turns out to be the
 * only one, so a client that sends one command at a time pays nothing. Parts larger than
 * {@link #SMALL} bytes are never copied; they are written after whatever was gathered before them,
 * so the order of bytes on the wire is always the order of {@link #write} calls.
 *
 * <p>Not thread-safe: use it from the channel's event loop only, and route every write of the
 * channel through it (or call {@link #writeGathered()} before writing around it).
 */
public final class WriteCoalescer {

  /** Parts at most this long are copied into the gathering buffer. */
  public static final int SMALL = 512;
  /** Capacity of a gathering buffer; a part that does not fit starts a new one. */
  static final int CHUNK = 4096;

  private final ChannelHandlerContext ctx;
  /** The tick's first part while it is the only one (written as it is). */
  private ByteBuf first;
  /** Small parts copied together, not yet written to the channel. */
  private ByteBuf gathered;

  public WriteCoalescer(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** Writes {@code part} (taking ownership) after everything written before it; does not flush. */
  public void write(ByteBuf part) {
    int size = part.readableBytes();
    if (size > SMALL) {
      writeGathered();
      ctx.write(part, ctx.voidPromise());
      return;
    }
    if (first == null && gathered == null) {
      first = part;
      return;
    }
    if (gathered != null && gathered.writableBytes() < size) {
      writeGathered();
      first = part;
      return;
    }
    if (gathered == null) {
      gathered = ctx.alloc().ioBuffer(CHUNK);
      if (first != null) {
        append(first);
        first = null;
      }
    }
    append(part);
  }

  /**
   * Writes a copy of {@code length} bytes of {@code src} from absolute index {@code index} after
   * everything written before it; {@code src} is not released and its indexes do not move. For
   * bytes that are only valid now, such as a reply still in a channel's read buffer: small ones
   * are copied into the gathering buffer (no buffer object of their own), larger ones are written
   * as a retained slice, as {@link #write} would write them.
   */
  public void copy(ByteBuf src, int index, int length) {
    if (length > SMALL) {
      writeGathered();
      ctx.write(src.retainedSlice(index, length), ctx.voidPromise());
      return;
    }
    if (gathered != null && gathered.writableBytes() < length) {
      writeGathered();
    }
    if (gathered == null) {
      gathered = ctx.alloc().ioBuffer(CHUNK);
      if (first != null) {
        append(first);
        first = null;
      }
    }
    int at = gathered.writerIndex();
    src.getBytes(index, gathered, at, length);
    gathered.writerIndex(at + length);
  }

  /**
   * Copies {@code part} to the end of the gathering buffer and releases it. {@code getBytes} from
   * the source copies memory to memory; {@code writeBytes} between two direct buffers would make
   * a {@code java.nio} view of one of them per call.
   */
  private void append(ByteBuf part) {
    int n = part.readableBytes();
    int at = gathered.writerIndex();
    gathered.ensureWritable(n);
    part.getBytes(part.readerIndex(), gathered, at, n);
    gathered.writerIndex(at + n);
    part.release();
  }

  /** Writes what was gathered so far to the channel (without flushing). */
  public void writeGathered() {
    if (first != null) {
      ByteBuf b = first;
      first = null;
      ctx.write(b, ctx.voidPromise());
    }
    if (gathered != null) {
      ByteBuf b = gathered;
      gathered = null;
      ctx.write(b, ctx.voidPromise());
    }
  }

  /** Writes what was gathered and flushes the channel. */
  public void flush() {
    writeGathered();
    ctx.flush();
  }

  /** Releases what was gathered but not written (the channel is gone). */
  public void discard() {
    if (first != null) {
      first.release();
      first = null;
    }
    if (gathered != null) {
      gathered.release();
      gathered = null;
    }
  }
}

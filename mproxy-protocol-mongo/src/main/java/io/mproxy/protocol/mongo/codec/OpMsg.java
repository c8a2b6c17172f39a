package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The structure of one OP_MSG, found in place: its flags, where its body (the kind-0 section)
 * is, and its document sequences (kind-1 sections). Parsing checks every section's length and
 * the optional CRC-32C checksum; nothing is copied.
 */
public final class OpMsg {

  public static final int CHECKSUM_PRESENT = 1;
  public static final int MORE_TO_COME = 1 << 1;
  public static final int EXHAUST_ALLOWED = 1 << 16;
  /** Bits 0–15 must be understood by the receiver: unknown ones there are an error. */
  private static final int REQUIRED_BITS = 0xFFFF;
  private static final int KNOWN_BITS = CHECKSUM_PRESENT | MORE_TO_COME | EXHAUST_ALLOWED;
  private static final int FLAGS_OFFSET = MongoFrame.HEADER_BYTES;
  private static final int SECTIONS_OFFSET = FLAGS_OFFSET + 4;

  /** One kind-1 section: an identifier (e.g. {@code documents}) and its documents' bytes. */
  public record Sequence(String identifier, int documentsStart, int documentsEnd) {
  }

  private final int flags;
  private final int bodyStart;
  private final int bodyLength;
  private final List<Sequence> sequences;

  private OpMsg(int flags, int bodyStart, int bodyLength, List<Sequence> sequences) {
    this.flags = flags;
    this.bodyStart = bodyStart;
    this.bodyLength = bodyLength;
    this.sequences = sequences;
  }

  /** Parses and checks the OP_MSG in {@code frame}; bad structure raises {@link MongoCodecException}. */
  public static OpMsg parse(MongoFrame frame) {
    if (frame.opCode() != OpCode.OP_MSG) {
      throw new MongoCodecException("not an OP_MSG: " + OpCode.name(frame.opCode()), frame.requestId());
    }
    ByteBuf buf = frame.content();
    int base = buf.readerIndex();
    int length = buf.readableBytes();
    int id = frame.requestId();
    if (length < SECTIONS_OFFSET + 1 + BsonScanner.MIN_DOCUMENT_BYTES) {
      throw new MongoCodecException("OP_MSG too short", id);
    }
    int flags = buf.getIntLE(base + FLAGS_OFFSET);
    if ((flags & REQUIRED_BITS & ~KNOWN_BITS) != 0) {
      throw new MongoCodecException("OP_MSG has unknown required flag bits 0x"
          + Integer.toHexString(flags & REQUIRED_BITS & ~KNOWN_BITS), id);
    }
    int end = base + length;
    if ((flags & CHECKSUM_PRESENT) != 0) {
      end -= 4;
      if (end < base + SECTIONS_OFFSET + 1 + BsonScanner.MIN_DOCUMENT_BYTES) {
        throw new MongoCodecException("OP_MSG too short for its checksum", id);
      }
      int expected = buf.getIntLE(end);
      if (crc32c(buf, base, end - base) != expected) {
        throw new MongoCodecException("OP_MSG checksum mismatch", id);
      }
    }
    int bodyStart = -1;
    int bodyLength = 0;
    List<Sequence> sequences = List.of();
    int pos = base + SECTIONS_OFFSET;
    try {
      while (pos < end) {
        byte kind = buf.getByte(pos++);
        if (kind == 0) {
          if (bodyStart >= 0) {
            throw new MongoCodecException("OP_MSG has more than one body section", id);
          }
          bodyLength = BsonScanner.documentLength(buf, pos, end);
          bodyStart = pos;
          pos += bodyLength;
        } else if (kind == 1) {
          if (end - pos < 4) {
            throw new MongoCodecException("OP_MSG document sequence is truncated", id);
          }
          int size = buf.getIntLE(pos);
          if (size < 5 || size > end - pos) {
            throw new MongoCodecException("OP_MSG document sequence size " + size + " does not fit", id);
          }
          int seqEnd = pos + size;
          int nul = buf.indexOf(pos + 4, seqEnd, (byte) 0);
          if (nul < 0) {
            throw new MongoCodecException("OP_MSG document sequence identifier is not terminated", id);
          }
          String identifier = buf.toString(pos + 4, nul - pos - 4, StandardCharsets.UTF_8);
          int docs = nul + 1;
          for (int d = docs; d < seqEnd; ) {
            d += BsonScanner.documentLength(buf, d, seqEnd);
          }
          if (sequences.isEmpty()) {
            sequences = new ArrayList<>(2);
          }
          sequences.add(new Sequence(identifier, docs, seqEnd));
          pos = seqEnd;
        } else {
          throw new MongoCodecException("OP_MSG section kind " + kind + " is unknown", id);
        }
      }
    } catch (MongoCodecException e) {
      if (e.requestId() == 0 && id != 0) {
        throw new MongoCodecException(e.getMessage(), id);
      }
      throw e;
    }
    if (bodyStart < 0) {
      throw new MongoCodecException("OP_MSG has no body section", id);
    }
    return new OpMsg(flags, bodyStart, bodyLength, sequences);
  }

  public int flags() {
    return flags;
  }

  public boolean checksumPresent() {
    return (flags & CHECKSUM_PRESENT) != 0;
  }

  /** The sender expects no reply (requests) or more replies follow (responses). */
  public boolean moreToCome() {
    return (flags & MORE_TO_COME) != 0;
  }

  public boolean exhaustAllowed() {
    return (flags & EXHAUST_ALLOWED) != 0;
  }

  /** Absolute index of the body document in the frame's buffer. */
  public int bodyStart() {
    return bodyStart;
  }

  public int bodyLength() {
    return bodyLength;
  }

  public List<Sequence> sequences() {
    return sequences;
  }

  /** A scanner over the body document. */
  public BsonScanner body(MongoFrame frame) {
    return BsonScanner.of(frame.content(), bodyStart, bodyStart + bodyLength);
  }

  /**
   * The message without its checksum (flag cleared, length adjusted), as a new buffer: the proxy
   * strips checksums rather than recompute them, since it may rewrite headers.
   */
  public static ByteBuf withoutChecksum(ByteBufAllocator alloc, MongoFrame frame) {
    ByteBuf in = frame.content();
    int base = in.readerIndex();
    int length = in.readableBytes() - 4;
    ByteBuf out = alloc.buffer(length);
    out.writeBytes(in, base, length);
    out.setIntLE(0, length);
    out.setIntLE(FLAGS_OFFSET, in.getIntLE(base + FLAGS_OFFSET) & ~CHECKSUM_PRESENT);
    return out;
  }

  /**
   * The message with an int64 field {@code name: value} appended to its body, as a new buffer
   * without a checksum (the proxy strips checksums rather than recompute them). The caller knows
   * the body has no such field yet. Used to hand a hinted timeout to the server as
   * {@code maxTimeMS}, the server's own way of ending an operation.
   */
  public static ByteBuf withBodyField(ByteBufAllocator alloc, MongoFrame frame, OpMsg msg, String name, long value) {
    ByteBuf in = frame.content();
    int base = in.readerIndex();
    int end = base + in.readableBytes() - (msg.checksumPresent() ? 4 : 0);
    byte[] key = name.getBytes(StandardCharsets.UTF_8);
    int element = 1 + key.length + 1 + 8;
    int terminator = msg.bodyStart + msg.bodyLength - 1;
    ByteBuf out = alloc.buffer(end - base + element);
    out.writeBytes(in, base, terminator - base);
    out.writeByte(0x12);
    out.writeBytes(key);
    out.writeByte(0);
    out.writeLongLE(value);
    out.writeBytes(in, terminator, end - terminator);
    out.setIntLE(0, out.readableBytes());
    out.setIntLE(FLAGS_OFFSET, msg.flags & ~CHECKSUM_PRESENT);
    out.setIntLE(msg.bodyStart - base, msg.bodyLength + element);
    return out;
  }

  /** The flags of the OP_MSG in {@code buf} (a whole message from its reader index). */
  public static int flagsOf(ByteBuf buf) {
    return buf.getIntLE(buf.readerIndex() + FLAGS_OFFSET);
  }

  /** CRC-32C over {@code length} bytes of {@code buf} from absolute index {@code from}. */
  public static int crc32c(ByteBuf buf, int from, int length) {
    CRC32C crc = new CRC32C();
    if (buf.nioBufferCount() == 1) {
      crc.update(buf.nioBuffer(from, length));
    } else {
      byte[] bytes = new byte[length];
      buf.getBytes(from, bytes);
      crc.update(bytes);
    }
    return (int) crc.getValue();
  }
}

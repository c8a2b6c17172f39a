package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4 block compression as CQL uses it: raw LZ4 blocks without a frame format, the uncompressed
 * length carried beside them (a 4-byte big-endian prefix in v4 frame bodies, a 17-bit header
 * field in v5 segments). Decompression is always bounded by a length the caller has already
 * checked against its limit, and must produce exactly that many bytes; anything else is a
 * {@link CqlCodecException}, never a larger buffer (input from clients is untrusted).
 */
public final class Lz4 {

  private static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
  private static final LZ4Compressor COMPRESSOR = FACTORY.fastCompressor();
  private static final LZ4SafeDecompressor DECOMPRESSOR = FACTORY.safeDecompressor();

  private Lz4() {
  }

  /** The LZ4 block of {@code length} bytes of {@code src} from {@code index}, in a new buffer. */
  public static ByteBuf compress(ByteBufAllocator alloc, ByteBuf src, int index, int length) {
    ByteBuf out = alloc.buffer(COMPRESSOR.maxCompressedLength(length));
    try {
      ByteBuffer in = nio(src, index, length);
      ByteBuffer dest = out.internalNioBuffer(0, out.capacity());
      int n = COMPRESSOR.compress(in, in.position(), length, dest, dest.position(), out.capacity());
      return out.writerIndex(n);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
  }

  /**
   * Decompresses the LZ4 block of {@code length} bytes of {@code src} from {@code index}, which
   * must hold exactly {@code uncompressedLength} bytes (checked against a limit by the caller).
   */
  public static ByteBuf decompress(ByteBufAllocator alloc, ByteBuf src, int index, int length,
      int uncompressedLength, int version, int stream) {
    ByteBuf out = alloc.buffer(uncompressedLength, uncompressedLength);
    try {
      ByteBuffer in = nio(src, index, length);
      ByteBuffer dest = out.internalNioBuffer(0, uncompressedLength);
      int n;
      try {
        n = DECOMPRESSOR.decompress(in, in.position(), length, dest, dest.position(), uncompressedLength);
      } catch (LZ4Exception e) {
        throw new CqlCodecException("malformed LZ4 data: " + e.getMessage(), version, stream);
      }
      if (n != uncompressedLength) {
        throw new CqlCodecException("LZ4 data decompressed to " + n + " bytes, the header said "
            + uncompressedLength, version, stream);
      }
      return out.writerIndex(n);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
  }

  /** A view of the bytes as one NIO buffer (a copy only when they are not contiguous). */
  private static ByteBuffer nio(ByteBuf src, int index, int length) {
    ByteBuffer[] parts = src.nioBuffers(index, length);
    if (parts.length == 1) {
      return parts[0];
    }
    byte[] copy = new byte[length];
    src.getBytes(index, copy);
    return ByteBuffer.wrap(copy);
  }
}

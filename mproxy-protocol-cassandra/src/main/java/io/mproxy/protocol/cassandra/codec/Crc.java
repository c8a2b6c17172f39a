package io.mproxy.protocol.cassandra.codec;

import io.netty.buffer.ByteBuf;
import java.util.zip.CRC32;

/**
 * The two checksums of protocol v5 segments: CRC24 over the segment header bytes (initial value
 * 0x875060, polynomial 0x1974F0B, fed the bytes in wire order) and CRC32 (the zlib one) over the
 * payload, seeded by first feeding it the four bytes FA 2D 55 CA. Both travel little-endian.
 */
public final class Crc {

  private static final int CRC24_INIT = 0x875060;
  private static final int CRC24_POLY = 0x1974F0B;
  private static final byte[] CRC32_SEED = {(byte) 0xFA, (byte) 0x2D, (byte) 0x55, (byte) 0xCA};

  private Crc() {
  }

  /** CRC24 of {@code length} bytes of {@code buf} from {@code index}. */
  public static int crc24(ByteBuf buf, int index, int length) {
    int crc = CRC24_INIT;
    for (int i = 0; i < length; i++) {
      crc ^= (buf.getByte(index + i) & 0xFF) << 16;
      for (int bit = 0; bit < 8; bit++) {
        crc <<= 1;
        if ((crc & 0x1000000) != 0) {
          crc ^= CRC24_POLY;
        }
      }
    }
    return crc & 0xFFFFFF;
  }

  /** Seeded CRC32 of {@code length} bytes of {@code buf} from {@code index}. */
  public static int crc32(ByteBuf buf, int index, int length) {
    CRC32 crc = new CRC32();
    crc.update(CRC32_SEED);
    if (length > 0) {
      crc.update(buf.nioBuffer(index, length));
    }
    return (int) crc.getValue();
  }

  /** Seeded CRC32 over several buffers' readable bytes, in order. */
  public static int crc32(ByteBuf... parts) {
    CRC32 crc = new CRC32();
    crc.update(CRC32_SEED);
    for (ByteBuf part : parts) {
      if (part.isReadable()) {
        for (java.nio.ByteBuffer nio : part.nioBuffers(part.readerIndex(), part.readableBytes())) {
          crc.update(nio);
        }
      }
    }
    return (int) crc.getValue();
  }
}

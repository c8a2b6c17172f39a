package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** Builds the packets the proxy itself sends: OK, ERR, EOF, the server greeting, commands. */
public final class Packets {

  private Packets() {
  }

  /** An OK packet; with CLIENT_SESSION_TRACK the (empty) info is length-encoded. */
  public static ByteBuf ok(ByteBufAllocator alloc, int seq, long affected, long lastInsertId, int status,
      int warnings, int clientCaps) {
    ByteBuf p = alloc.buffer(16);
    p.writeMediumLE(0).writeByte(seq);
    p.writeByte(Mysql.OK);
    MysqlBuf.writeLenenc(p, affected);
    MysqlBuf.writeLenenc(p, lastInsertId);
    p.writeShortLE(status).writeShortLE(warnings);
    if ((clientCaps & Mysql.CLIENT_SESSION_TRACK) != 0) {
      p.writeByte(0);
    }
    return finish(p);
  }

  /** An ERR packet with the SQLSTATE MySQL uses for {@code code}. */
  public static ByteBuf err(ByteBufAllocator alloc, int seq, int code, String message) {
    byte[] msg = message.getBytes(StandardCharsets.UTF_8);
    ByteBuf p = alloc.buffer(4 + 9 + msg.length);
    p.writeMediumLE(0).writeByte(seq);
    p.writeByte(Mysql.ERR).writeShortLE(code).writeByte('#');
    p.writeBytes(Mysql.sqlState(code).getBytes(StandardCharsets.US_ASCII));
    p.writeBytes(msg);
    return finish(p);
  }

  /** A classic EOF packet. */
  public static ByteBuf eof(ByteBufAllocator alloc, int seq, int warnings, int status) {
    ByteBuf p = alloc.buffer(9);
    p.writeMediumLE(0).writeByte(seq);
    p.writeByte(Mysql.EOF).writeShortLE(warnings).writeShortLE(status);
    return finish(p);
  }

  /** A command packet (sequence id 0): the command byte followed by {@code body}. */
  public static ByteBuf command(ByteBufAllocator alloc, int command, byte[] body) {
    ByteBuf p = alloc.buffer(5 + body.length);
    p.writeMediumLE(0).writeByte(0).writeByte(command).writeBytes(body);
    return finish(p);
  }

  /** A COM_QUERY packet for {@code sql}. */
  public static ByteBuf query(ByteBufAllocator alloc, String sql) {
    return command(alloc, Mysql.COM_QUERY, sql.getBytes(StandardCharsets.UTF_8));
  }

  /** Any payload written by the caller after a 4-byte placeholder header. */
  public static ByteBuf finish(ByteBuf p) {
    int len = p.writerIndex() - p.readerIndex() - 4;
    if (len >= MysqlPacket.MAX_CHUNK) {
      throw new IllegalArgumentException("proxy-made packets stay below 16 MB: " + len);
    }
    p.setMediumLE(p.readerIndex(), len);
    return p;
  }

  /** A buffer with the 4-byte header placeholder written, for {@link #finish}. */
  public static ByteBuf start(ByteBufAllocator alloc, int seq, int sizeHint) {
    return alloc.buffer(4 + sizeHint).writeMediumLE(0).writeByte(seq);
  }

  /**
   * Reads the error code and message of an ERR payload (header byte included) as
   * {@code "code (state): message"}, for logs and exceptions.
   */
  public static String describeErr(ByteBuf payload) {
    ByteBuf b = payload.duplicate();
    if (b.readableBytes() < 3 || b.readUnsignedByte() != Mysql.ERR) {
      return "not an ERR packet";
    }
    int code = b.readUnsignedShortLE();
    String state = "";
    if (b.isReadable() && b.getByte(b.readerIndex()) == '#' && b.readableBytes() >= 6) {
      b.skipBytes(1);
      state = b.readCharSequence(5, StandardCharsets.US_ASCII).toString();
    }
    return code + " (" + state + "): " + MysqlBuf.readRestString(b);
  }

  /** The error code of an ERR payload, or -1. */
  public static int errCode(ByteBuf payload) {
    int at = payload.readerIndex();
    if (payload.readableBytes() < 3 || payload.getUnsignedByte(at) != Mysql.ERR) {
      return -1;
    }
    return payload.getUnsignedShortLE(at + 1);
  }
}

package io.mproxy.protocol.redis;

import io.mproxy.protocol.redis.codec.RespWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/** Replies the proxy writes itself, encoded once into pooled buffers. */
final class RedisReplies {

  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  private RedisReplies() {
  }

  static ByteBuf ok() {
    return simple("OK");
  }

  static ByteBuf simple(String s) {
    return RespWriter.simpleString(ALLOC.buffer(s.length() + 3), s);
  }

  /** An error reply; {@code message} starts with its code (ERR, NOAUTH, WRONGPASS, mproxy:…). */
  static ByteBuf error(String message) {
    return RespWriter.error(ALLOC.buffer(message.length() + 3), message);
  }

  static ByteBuf integer(long v) {
    return RespWriter.integer(ALLOC.buffer(24), v);
  }

  static ByteBuf bulk(String s, int protocolVersion) {
    ByteBuf out = ALLOC.buffer();
    return s == null ? RespWriter.nullValue(out, protocolVersion) : RespWriter.bulkString(out, s);
  }

  /** The proxy's answer to HELLO: the backend's server and version, this session's id. */
  static ByteBuf hello(ByteBufAllocator alloc, int proto, String version, long id) {
    ByteBuf out = alloc.buffer(160);
    RespWriter.mapHeader(out, 7, proto);
    RespWriter.bulkString(out, "server");
    RespWriter.bulkString(out, "redis");
    RespWriter.bulkString(out, "version");
    RespWriter.bulkString(out, version);
    RespWriter.bulkString(out, "proto");
    RespWriter.integer(out, proto);
    RespWriter.bulkString(out, "id");
    RespWriter.integer(out, id);
    RespWriter.bulkString(out, "mode");
    RespWriter.bulkString(out, "standalone");
    RespWriter.bulkString(out, "role");
    RespWriter.bulkString(out, "master");
    RespWriter.bulkString(out, "modules");
    RespWriter.arrayHeader(out, 0);
    return out;
  }
}

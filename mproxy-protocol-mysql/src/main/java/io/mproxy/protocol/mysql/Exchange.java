package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.netty.buffer.ByteBuf;

/**
 * One command sent on a backend connection and the packets that answer it. The backend
 * handler feeds packets to the oldest open exchange, in order, on the backend's event loop.
 * Packets below 16 MB arrive in place ({@link #onPacketInPlace}: a range of the read buffer,
 * each read's part closed by {@link #endRun}); a forwarding exchange hands the whole range on at
 * once. Joined 16 MB continuation packets arrive as {@link MysqlPacket}s ({@link #onPacket}).
 */
abstract class Exchange {

  /** Takes ownership of {@code packet}; returns true when it was the last of the answer. */
  abstract boolean onPacket(MysqlPacket packet);

  /**
   * One wire packet in place: {@code buf} holds it (header included) at {@code at}, payload
   * {@code len} bytes, sequence id {@code seq}; nothing is owned, so an exchange that keeps
   * anything takes it in {@link #endRun}. Returns true when it was the last of the answer. By
   * default the packet is made a {@link MysqlPacket} of its own (login and internal exchanges).
   */
  boolean onPacketInPlace(ByteBuf buf, int at, int len, int seq) {
    return onPacket(MysqlPacket.single(buf.retainedSlice(at, 4 + len)));
  }

  /**
   * The packets given to {@link #onPacketInPlace} since the last call end at {@code to} in
   * {@code buf}: the end of this exchange's part of one read, or of its answer (then called
   * right after the last packet, before the next exchange's packets). {@code buf} is not owned.
   */
  void endRun(ByteBuf buf, int to) {
  }

  /** The end of one read from the socket: a chance to hand batched packets on. */
  void onReadComplete() {
  }

  /** The connection broke (or the answer was malformed) before the answer was complete. */
  abstract void failed(Throwable cause);
}

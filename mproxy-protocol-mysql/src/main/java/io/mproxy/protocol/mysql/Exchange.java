package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.MysqlPacket;

/**
 * One command sent on a backend connection and the packets that answer it. The backend
 * handler feeds packets to the oldest open exchange, in order, on the backend's event loop.
 */
abstract class Exchange {

  /** Takes ownership of {@code packet}; returns true when it was the last of the answer. */
  abstract boolean onPacket(MysqlPacket packet);

  /** The end of one read from the socket: a chance to hand batched packets on. */
  void onReadComplete() {
  }

  /** The connection broke (or the answer was malformed) before the answer was complete. */
  abstract void failed(Throwable cause);
}

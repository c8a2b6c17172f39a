package io.mproxy.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** Whoever is listening to a backend connection right now: its handshake, a probe, or a client. */
interface PgBackendSink {

  /** One whole backend message (type, length, body); the sink owns it. */
  void message(ByteBuf frame);

  /**
   * A backend message, or (when {@code endsWithReady}) a relayed run whose last six bytes are
   * the ReadyForQuery that followed it ({@link io.mproxy.protocol.postgres.codec.PgFrameDecoder#endsWithReady}).
   * This default hands such a run over as the run and the ReadyForQuery, one message each: a
   * sink that relays runs reads the status from the end instead.
   */
  default void message(ByteBuf frame, boolean endsWithReady) {
    if (!endsWithReady) {
      message(frame);
      return;
    }
    int z = frame.writerIndex() - 6;
    ByteBuf run = frame.retainedSlice(frame.readerIndex(), z - frame.readerIndex());
    ByteBuf ready = frame.retainedSlice(z, 6);
    frame.release();
    message(run);
    message(ready);
  }

  /** The backend's one-byte answer to an SSLRequest. */
  default void sslAnswer(byte answer) {
  }

  /** The connection closed or failed. */
  void closed(Throwable cause);

  /** The backend connection's writability changed (flow control of client uploads). */
  default void writabilityChanged(boolean writable) {
  }

  /**
   * Whether this sink only relays DataRow, RowDescription, CommandComplete and the like, so that
   * a run of them may arrive as one buffer ({@link io.mproxy.protocol.postgres.codec.PgFrameDecoder#relayRuns}).
   */
  default boolean relaysRuns() {
    return false;
  }

  /** The backend connection's event loop finished a read: the messages it produced are all in. */
  default void readComplete() {
  }
}

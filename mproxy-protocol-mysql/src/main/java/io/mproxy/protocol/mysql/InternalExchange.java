package io.mproxy.protocol.mysql;

import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.protocol.mysql.codec.Packets;
import io.mproxy.protocol.mysql.codec.ResponseReader;
import java.util.function.BiConsumer;

/**
 * A command the proxy sends for itself (COM_INIT_DB, SET, COM_RESET_CONNECTION, a re-prepare,
 * COM_PING, KILL QUERY): its answer is read and dropped, and {@code done} gets the reader (status,
 * error code, prepared statement id) and the error text, or a failure.
 */
final class InternalExchange extends Exchange {

  /** The answer: reader when it arrived (error text when it was an ERR), or the failure. */
  interface Done {
    void completed(ResponseReader reader, String error);

    void failed(Throwable cause);
  }

  private final ResponseReader reader;
  private final Done done;
  private String error;

  InternalExchange(ResponseReader reader, Done done) {
    this.reader = reader;
    this.done = done;
  }

  static InternalExchange of(ResponseReader reader, BiConsumer<ResponseReader, String> completed,
      java.util.function.Consumer<Throwable> failed) {
    return new InternalExchange(reader, new Done() {
      @Override
      public void completed(ResponseReader r, String e) {
        completed.accept(r, e);
      }

      @Override
      public void failed(Throwable cause) {
        failed.accept(cause);
      }
    });
  }

  @Override
  boolean onPacket(MysqlPacket packet) {
    try {
      boolean last = reader.accept(packet);
      if (reader.errorCode() >= 0 && error == null) {
        error = Packets.describeErr(packet.payload());
      }
      if (last) {
        done.completed(reader, error);
      }
      return last;
    } finally {
      packet.release();
    }
  }

  @Override
  void failed(Throwable cause) {
    done.failed(cause);
  }
}

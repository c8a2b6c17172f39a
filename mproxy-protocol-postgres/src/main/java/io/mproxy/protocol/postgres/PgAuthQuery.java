package io.mproxy.protocol.postgres;

import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Looks a client's password hash up on the backend with the cluster's {@code auth_query} (as
 * PgBouncer does), over a pooled connection of the default database: one extended-protocol
 * round trip with the user name as {@code $1}. The answer's second column is a SCRAM verifier or
 * an md5 hash; a plain password is accepted too. No row (or NULL) means no such user.
 */
final class PgAuthQuery {

  /** The outcome: a secret, no user (both fields null), or an error. */
  record Answer(PgClientAuth.Secret secret, String error) {
  }

  private PgAuthQuery() {
  }

  static void lookup(Cluster cluster, String query, String user, EventLoop loop, Consumer<Answer> done) {
    Request probe = new Request(new TenantIdentity("auth_query", user, null, null), RequestKind.READ,
        "AUTH_QUERY", "AUTH_QUERY", 0, 0, false);
    Backend target = cluster.select(probe);
    if (target == null) {
      done.accept(new Answer(null, "no healthy backend for auth_query"));
      return;
    }
    BackendPool pool = cluster.pool(target, Cluster.DEFAULT_VARIANT);
    pool.acquire(true, loop, new BackendPool.Lease() {
      @Override
      public void granted(PooledConnection connection) {
        run(connection, query, user, done);
      }

      @Override
      public void failed(Throwable cause) {
        done.accept(new Answer(null, "auth_query: no backend connection: " + cause.getMessage()));
      }
    });
  }

  private static void run(PooledConnection connection, String query, String user, Consumer<Answer> done) {
    PgBackend backend = connection.attachment();
    Channel ch = connection.channel();
    backend.sink(new PgBackendSink() {
      private String value;
      private boolean found;
      private String error;

      @Override
      public void message(ByteBuf frame) {
        try {
          byte type = frame.getByte(frame.readerIndex());
          if (type == PgMessages.DATA_ROW && !found) {
            found = true;
            value = column(frame, 1);
          } else if (type == PgMessages.ERROR_RESPONSE) {
            error = PgErrors.describe(frame);
          } else if (type == PgMessages.READY_FOR_QUERY) {
            backend.idle();
            connection.pool().release(connection, true);
            finish();
          }
        } finally {
          frame.release();
        }
      }

      private void finish() {
        if (error != null) {
          done.accept(new Answer(null, "auth_query failed: " + error));
        } else if (!found || value == null) {
          done.accept(new Answer(null, null));
        } else if (value.startsWith("SCRAM-SHA-256$")) {
          try {
            done.accept(new Answer(new PgClientAuth.Secret(null, ScramCredential.parsePostgresVerifier(value), null), null));
          } catch (IllegalArgumentException e) {
            done.accept(new Answer(null, "auth_query returned an unreadable SCRAM verifier"));
          }
        } else if (value.startsWith("md5") && value.length() == 35) {
          done.accept(new Answer(new PgClientAuth.Secret(null, null, value), null));
        } else {
          done.accept(new Answer(new PgClientAuth.Secret(value, null, null), null));
        }
      }

      @Override
      public void closed(Throwable cause) {
        connection.pool().release(connection, false);
        done.accept(new Answer(null, "auth_query: backend connection lost"));
      }
    });
    ByteBuf out = ch.alloc().buffer();
    PgMessages.parse(out, "", query, NO_TYPES.duplicate());
    // Bind: unnamed portal and statement, no format codes, one text parameter, no result formats.
    byte[] u = user.getBytes(StandardCharsets.UTF_8);
    int start = out.writerIndex();
    out.writeByte(PgMessages.BIND).writeInt(0).writeByte(0).writeByte(0)
        .writeShort(0).writeShort(1).writeInt(u.length).writeBytes(u).writeShort(0);
    out.setInt(start + 1, out.writerIndex() - start - 1);
    out.writeByte(PgMessages.EXECUTE).writeInt(9).writeByte(0).writeInt(1);
    out.writeByte(PgMessages.SYNC).writeInt(4);
    ch.writeAndFlush(out);
  }

  private static final ByteBuf NO_TYPES = io.netty.buffer.Unpooled.unreleasableBuffer(
      io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {0, 0}).asReadOnly());

  /** The text of column {@code index} (0-based) of a DataRow, or null for SQL NULL. */
  static String column(ByteBuf frame, int index) {
    int i = frame.readerIndex() + 5;
    int n = frame.getUnsignedShort(i);
    i += 2;
    if (index >= n) {
      return null;
    }
    for (int c = 0; c < index; c++) {
      int len = frame.getInt(i);
      i += 4 + Math.max(0, len);
    }
    int len = frame.getInt(i);
    return len < 0 ? null : frame.toString(i + 4, len, StandardCharsets.UTF_8);
  }
}

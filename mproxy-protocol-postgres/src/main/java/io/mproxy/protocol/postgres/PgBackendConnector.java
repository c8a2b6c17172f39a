package io.mproxy.protocol.postgres;

import io.mproxy.core.auth.PostgresMd5;
import io.mproxy.core.auth.ScramClient;
import io.mproxy.core.auth.ScramException;
import io.mproxy.core.auth.ScramKeyCache;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.auth.ScramNonces;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.time.RandomSource;
import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.postgres.codec.PgFrameDecoder;
import io.mproxy.protocol.postgres.codec.PgMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Opens PostgreSQL backend connections as the cluster's configured user: optional TLS
 * (SSLRequest), the start-up packet for the pool's database, then whatever authentication the
 * server asks for (SCRAM-SHA-256, md5 or cleartext), collecting the server's parameters and cancel
 * key until ReadyForQuery. Probes send an empty query.
 */
final class PgBackendConnector implements BackendConnector {

  /** Backend messages can be as large as a 1 GB field plus framing. */
  static final int MAX_BACKEND_MESSAGE_BYTES = Integer.MAX_VALUE - 8;

  private final Credentials credentials;
  private final String defaultDatabase;
  private final BackendTls tls;
  private final RandomSource random;
  /** Keys derived from the backend's salt: Hi() runs once, not for every connection the pool opens. */
  private final ScramKeyCache scramKeys = new ScramKeyCache(16);

  PgBackendConnector(ClusterConfig cluster, PgClusterOptions options, RandomSource random) {
    this.credentials = cluster.credentials();
    this.defaultDatabase = options.database();
    this.tls = options.tls();
    this.random = random;
  }

  /** The database a pool variant connects to: the default pool uses the cluster's database. */
  String database(String variant) {
    return variant == null || variant.isEmpty() ? defaultDatabase : variant;
  }

  @Override
  public void initChannel(Channel channel) {
    channel.pipeline()
        .addLast("pg-decoder", PgFrameDecoder.forBackend(MAX_BACKEND_MESSAGE_BYTES))
        .addLast("pg-backend", new PgBackend());
  }

  @Override
  public void handshake(PooledConnection connection, Promise<Void> ready) {
    Channel ch = connection.channel();
    PgBackend backend = ch.pipeline().get(PgBackend.class);
    connection.attach(backend);
    Startup startup = new Startup(connection, backend, ready);
    backend.sink(startup);
    if (tls.mode().wanted()) {
      backend.decoder().expectSslAnswer();
      ch.writeAndFlush(PgMessages.sslRequest(ch.alloc()));
    } else {
      startup.sendStartup();
    }
  }

  @Override
  public void probe(PooledConnection connection, Promise<Void> result) {
    PgBackend backend = connection.attachment();
    Channel ch = connection.channel();
    backend.sink(new PgBackendSink() {
      private String error;

      @Override
      public void message(ByteBuf frame) {
        try {
          byte type = frame.getByte(frame.readerIndex());
          if (type == PgMessages.ERROR_RESPONSE) {
            error = PgErrors.describe(frame);
          } else if (type == PgMessages.READY_FOR_QUERY) {
            backend.idle();
            if (error == null) {
              result.trySuccess(null);
            } else {
              result.tryFailure(new IllegalStateException("probe failed: " + error));
            }
          }
        } finally {
          frame.release();
        }
      }

      @Override
      public void closed(Throwable cause) {
        result.tryFailure(cause);
      }
    });
    ch.writeAndFlush(PgMessages.query(ch.alloc(), ""));
  }

  /** The start-up conversation of one connection, as an explicit state machine. */
  private final class Startup implements PgBackendSink {

    private enum State { SSL, AUTH, SASL_CONTINUE, SASL_FINAL, PARAMETERS, DONE }

    private final PooledConnection connection;
    private final PgBackend backend;
    private final Promise<Void> ready;
    private State state;
    private ScramClient scram;

    Startup(PooledConnection connection, PgBackend backend, Promise<Void> ready) {
      this.connection = connection;
      this.backend = backend;
      this.ready = ready;
      this.state = tls.mode().wanted() ? State.SSL : State.AUTH;
    }

    void sendStartup() {
      state = State.AUTH;
      Map<String, String> params = new LinkedHashMap<>();
      params.put("user", credentials.user());
      params.put("database", database(connection.variant()));
      Channel ch = connection.channel();
      ch.writeAndFlush(PgMessages.startup(ch.alloc(), params));
    }

    @Override
    public void sslAnswer(byte answer) {
      if (state != State.SSL) {
        fail("unexpected SSL answer");
        return;
      }
      if (answer == 'S') {
        tls.startOn(connection.channel()).addListener(f -> {
          if (f.isSuccess()) {
            sendStartup();
          } else {
            fail("TLS handshake with the backend failed: " + f.cause());
          }
        });
      } else if (answer == 'N' && !tls.mode().mandatory()) {
        sendStartup();
      } else if (answer == 'N') {
        fail("the backend does not offer TLS and the cluster's tls.mode is " + tls.mode());
      } else {
        fail("the backend answered SSLRequest with byte " + answer);
      }
    }

    @Override
    public void message(ByteBuf frame) {
      try {
        byte type = frame.getByte(frame.readerIndex());
        if (type == PgMessages.ERROR_RESPONSE) {
          fail("backend refused the connection: " + PgErrors.describe(frame));
          return;
        }
        switch (state) {
          case AUTH, SASL_CONTINUE, SASL_FINAL -> authentication(type, frame);
          case PARAMETERS -> parameters(type, frame);
          default -> fail("unexpected message '" + (char) type + "' during start-up");
        }
      } catch (RuntimeException e) {
        fail("backend start-up failed: " + e.getMessage());
      } finally {
        frame.release();
      }
    }

    private void authentication(byte type, ByteBuf frame) {
      if (type != PgMessages.AUTHENTICATION) {
        fail("expected an authentication request, got '" + (char) type + "'");
        return;
      }
      int code = frame.getInt(frame.readerIndex() + 5);
      Channel ch = connection.channel();
      switch (code) {
        case PgMessages.AUTH_OK -> state = State.PARAMETERS;
        case PgMessages.AUTH_CLEARTEXT -> {
          requirePassword();
          ch.writeAndFlush(PgMessages.password(ch.alloc(), credentials.password()));
        }
        case PgMessages.AUTH_MD5 -> {
          requirePassword();
          byte[] salt = new byte[4];
          frame.getBytes(frame.readerIndex() + 9, salt);
          ch.writeAndFlush(PgMessages.password(ch.alloc(),
              PostgresMd5.response(credentials.user(), credentials.password(), salt)));
        }
        case PgMessages.AUTH_SASL -> {
          requirePassword();
          String mechanisms = frame.toString(frame.readerIndex() + 9, frame.readableBytes() - 9,
              StandardCharsets.UTF_8);
          if (!mechanisms.contains("SCRAM-SHA-256\0")) {
            fail("backend offers no SASL mechanism the proxy supports: "
                + mechanisms.replace('\0', ' ').trim());
            return;
          }
          scram = ScramClient.create(ScramMechanism.SHA_256, "", credentials.password(),
              ScramNonces.of(random), scramKeys);
          ch.writeAndFlush(PgMessages.saslInitialResponse(ch.alloc(), "SCRAM-SHA-256", scram.clientFirst()));
          state = State.SASL_CONTINUE;
        }
        case PgMessages.AUTH_SASL_CONTINUE -> {
          String serverFirst = saslData(frame);
          try {
            ch.writeAndFlush(PgMessages.saslResponse(ch.alloc(), scram.clientFinal(serverFirst)));
          } catch (ScramException e) {
            fail("SCRAM with the backend failed: " + e.getMessage());
            return;
          }
          state = State.SASL_FINAL;
        }
        case PgMessages.AUTH_SASL_FINAL -> {
          try {
            scram.verifyServerFinal(saslData(frame));
          } catch (ScramException e) {
            fail("the backend's SCRAM signature is wrong: " + e.getMessage());
          }
        }
        default -> fail("backend asks for authentication method " + code
            + ", which the proxy does not support (use scram-sha-256, md5 or password)");
      }
    }

    private void requirePassword() {
      if (!credentials.present()) {
        throw new IllegalStateException("the backend asks for a password and the cluster has no credentials.password");
      }
    }

    private String saslData(ByteBuf frame) {
      return frame.toString(frame.readerIndex() + 9, frame.readableBytes() - 9, StandardCharsets.UTF_8);
    }

    private void parameters(byte type, ByteBuf frame) {
      switch (type) {
        case PgMessages.PARAMETER_STATUS, PgMessages.NOTICE_RESPONSE -> {
          // PgBackend already recorded parameters.
        }
        case PgMessages.BACKEND_KEY_DATA -> backend.keyData(frame.getInt(frame.readerIndex() + 5),
            frame.getInt(frame.readerIndex() + 9));
        case PgMessages.READY_FOR_QUERY -> {
          state = State.DONE;
          backend.idle();
          ready.trySuccess(null);
        }
        default -> fail("unexpected message '" + (char) type + "' before ReadyForQuery");
      }
    }

    private void fail(String why) {
      state = State.DONE;
      backend.idle();
      ready.tryFailure(new IllegalStateException(why));
      connection.channel().close();
    }

    @Override
    public void closed(Throwable cause) {
      ready.tryFailure(cause);
    }
  }
}

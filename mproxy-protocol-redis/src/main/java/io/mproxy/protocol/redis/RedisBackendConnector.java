package io.mproxy.protocol.redis;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.redis.codec.RespFrame;
import io.mproxy.protocol.redis.codec.RespFrameDecoder;
import io.mproxy.protocol.redis.codec.RespValues;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Opens Redis backend connections: installs the reply decoder and the reply matcher, then
 * logs in with the cluster's own credentials ({@code HELLO <proto> AUTH user pass}), selects
 * the cluster's database and remembers the server's version for the proxy's own HELLO replies.
 * Connection variant {@link #RESP3} speaks RESP3, the default variant RESP2. With the cluster
 * option {@code tls} the connection first runs a TLS handshake (implicit TLS: Redis has no
 * in-protocol upgrade), verifying the server against {@code ca} and its address in
 * {@code verify-full}; a failed handshake fails the connection, so the backend is marked down.
 */
final class RedisBackendConnector implements BackendConnector {

  static final String RESP3 = "resp3";
  static final int MAX_REPLY_BYTES = 512 * 1024 * 1024;

  private final Credentials credentials;
  private final int database;
  private final BackendTls tls;
  private volatile String serverVersion = "7.0.0";

  RedisBackendConnector(ClusterConfig cluster) {
    this.credentials = cluster.credentials() == null ? Credentials.NONE : cluster.credentials();
    this.database = RedisProtocolAdapter.database(cluster);
    this.tls = BackendTls.parse(cluster.options().get(RedisProtocolAdapter.TLS), new ArrayList<>());
  }

  int database() {
    return database;
  }

  String serverVersion() {
    return serverVersion;
  }

  @Override
  public void initChannel(Channel channel) {
    RedisBackendHandler handler = new RedisBackendHandler();
    channel.pipeline()
        .addLast("resp-decoder", RespFrameDecoder.replyBoundaries(MAX_REPLY_BYTES, handler))
        .addLast("redis-backend", handler);
  }

  @Override
  public void handshake(PooledConnection connection, Promise<Void> ready) {
    if (!tls.mode().wanted()) {
      login(connection, ready);
      return;
    }
    Channel ch = connection.channel();
    tls.startOn(ch).addListener(f -> {
      if (f.isSuccess()) {
        login(connection, ready);
      } else {
        ready.tryFailure(new IllegalStateException("TLS handshake with the backend failed: " + f.cause(), f.cause()));
        ch.close();
      }
    });
  }

  /** HELLO (with AUTH) and SELECT, pipelined; {@code ready} completes at the last reply. */
  private void login(PooledConnection connection, Promise<Void> ready) {
    RedisBackendHandler handler = connection.channel().pipeline().get(RedisBackendHandler.class);
    connection.attach(handler);
    int proto = RESP3.equals(connection.variant()) ? 3 : 2;
    List<String> hello = new ArrayList<>(List.of("HELLO", Integer.toString(proto)));
    if (credentials.present()) {
      hello.addAll(List.of("AUTH", credentials.user() == null ? "default" : credentials.user(),
          credentials.password()));
    }
    List<List<String>> steps = new ArrayList<>();
    steps.add(hello);
    if (database != 0) {
      steps.add(List.of("SELECT", Integer.toString(database)));
    }
    Channel ch = connection.channel();
    for (int i = 0; i < steps.size(); i++) {
      boolean first = i == 0;
      boolean last = i == steps.size() - 1;
      String what = steps.get(i).get(0);
      RespFrame cmd = RespFrame.command(ch.alloc(), steps.get(i).toArray(String[]::new));
      handler.send(cmd.content(), new OneShotSink() {
        @Override
        void onReply(RespFrame frame) {
          try {
            if (frame.isError()) {
              ready.tryFailure(new IllegalStateException(what + " refused by backend: "
                  + RespValues.asString(RespValues.parse(frame.content()))));
              return;
            }
            if (first) {
              rememberVersion(frame);
            }
            if (last) {
              ready.trySuccess(null);
            }
          } finally {
            frame.release();
          }
        }

        @Override
        public void failed(Throwable cause) {
          ready.tryFailure(cause);
        }
      });
    }
  }

  private void rememberVersion(RespFrame helloReply) {
    Object v = RespValues.parse(helloReply.content());
    if (v instanceof Map<?, ?> m && m.get("version") != null) {
      serverVersion = RespValues.asString(m.get("version"));
    } else if (v instanceof List<?> l) {
      for (int i = 0; i + 1 < l.size(); i += 2) {
        if ("version".equals(RespValues.asString(l.get(i)))) {
          serverVersion = RespValues.asString(l.get(i + 1));
        }
      }
    }
  }

  /**
   * Redis runs one command at a time, so spreading clients over connections buys no parallelism;
   * packing them lets the server read many commands per system call (one connection per event
   * loop while each carries fewer than this many requests).
   */
  static final int PACK_DEPTH = 256;

  @Override
  public int sharedPackDepth() {
    return PACK_DEPTH;
  }

  @Override
  public void probe(PooledConnection connection, Promise<Void> result) {
    RedisBackendHandler handler = connection.attachment();
    handler.send(RespFrame.command(connection.channel().alloc(), "PING").content(), new OneShotSink() {
      @Override
      void onReply(RespFrame frame) {
        boolean ok = !frame.isError();
        String text = ok ? null : RespValues.asString(RespValues.parse(frame.content()));
        frame.release();
        if (ok) {
          result.trySuccess(null);
        } else {
          result.tryFailure(new IllegalStateException("PING refused: " + text));
        }
      }

      @Override
      public void failed(Throwable cause) {
        result.tryFailure(cause);
      }
    });
  }

  /** A sink for one command the proxy itself sends, with a single reply. */
  abstract static class OneShotSink implements ReplySink {
    @Override
    public int expectedReplies() {
      return 1;
    }

    @Override
    public boolean pubsubDuring() {
      return false;
    }

    @Override
    public boolean pubsubAfter() {
      return false;
    }

    @Override
    public boolean monitorAfter() {
      return false;
    }

    /** Wraps the reply as a frame (a copy: the proxy's own commands are rare). */
    @Override
    public void reply(ByteBuf in, int index, int length, byte type, boolean last) {
      onReply(RespFrame.reply(type, in.copy(index, length), false));
    }

    /** Takes ownership of {@code frame}. */
    abstract void onReply(RespFrame frame);
  }
}

package io.mproxy.protocol.mysql;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.Packets;
import io.mproxy.protocol.mysql.codec.ResponseReader;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens MySQL backend connections: installs the packet decoder and the exchange matcher, logs
 * in with the cluster's credentials in the connection's {@link Variant} (over TLS when the
 * cluster's {@code tls} asks for it), and remembers the
 * server's version and capabilities for the greeting the proxy sends its own clients. Also
 * sends {@code KILL QUERY} on a short-lived side connection, which is how a query timeout or a
 * client's KILL stops a statement running on a leased connection.
 */
final class MysqlBackendConnector implements BackendConnector {

  private static final Logger LOG = LoggerFactory.getLogger(MysqlBackendConnector.class);
  /** The largest packet accepted from a backend (the server's own max_allowed_packet ceiling). */
  static final long MAX_BACKEND_PACKET = 1L << 30;
  static final String DEFAULT_SERVER_VERSION = "5.5.5-10.11.0-MariaDB-mproxy";
  private static final long KILL_TIMEOUT_MS = 5_000;
  /**
   * The pool variant of connections opened for passthrough clients: the proxy reads the greeting
   * (and upgrades to TLS when the cluster asks) but does not log in; the client does, and the
   * connection is closed when it leaves.
   */
  static final String PASSTHROUGH_VARIANT = "passthrough";

  private final Credentials credentials;
  private final String database;
  private final BackendTls tls;
  private volatile String serverVersion = DEFAULT_SERVER_VERSION;
  private volatile int serverCaps = -1;
  private volatile int serverExtCaps;

  MysqlBackendConnector(ClusterConfig cluster) {
    this.credentials = cluster.credentials() == null ? Credentials.NONE : cluster.credentials();
    this.database = MysqlProtocolAdapter.database(cluster);
    this.tls = BackendTls.parse(cluster.options().get(MysqlProtocolAdapter.TLS), new java.util.ArrayList<>());
  }

  /** The version string of the backends, as last seen in a greeting. */
  String serverVersion() {
    return serverVersion;
  }

  /** The capabilities of the backends as last seen, or -1 before the first login. */
  int serverCaps() {
    return serverCaps;
  }

  /** MariaDB's extended capabilities of the backends as last seen (0 before the first login, or MySQL). */
  int serverExtCaps() {
    return serverExtCaps;
  }

  String database() {
    return database;
  }

  @Override
  public void initChannel(Channel channel) {
    channel.pipeline().addLast("mysql-backend", new MysqlBackendHandler(MAX_BACKEND_PACKET));
  }

  @Override
  public void handshake(PooledConnection connection, Promise<Void> ready) {
    Channel ch = connection.channel();
    Promise<MysqlBackend> login = ch.eventLoop().newPromise();
    login.addListener(f -> {
      if (!f.isSuccess()) {
        ready.tryFailure(f.cause());
        return;
      }
      MysqlBackend backend = login.getNow();
      serverVersion = backend.serverVersion;
      serverExtCaps = backend.serverExtCaps;
      serverCaps = backend.serverCaps;
      connection.attach(backend);
      ready.trySuccess(null);
    });
    if (PASSTHROUGH_VARIANT.equals(connection.variant())) {
      MysqlBackendHandler handler = ch.pipeline().get(MysqlBackendHandler.class);
      handler.expect(new LoginExchange(ch, handler, "", null, null, Variant.DEFAULT, tls, login).greetingOnly());
      return;
    }
    login(ch, Variant.parse(connection.variant()), login);
  }

  private void login(Channel ch, Variant variant, Promise<MysqlBackend> result) {
    MysqlBackendHandler handler = ch.pipeline().get(MysqlBackendHandler.class);
    handler.expect(new LoginExchange(ch, handler, credentials.user(), credentials.password(), database,
        variant, tls, result));
  }

  @Override
  public void probe(PooledConnection connection, Promise<Void> result) {
    MysqlBackend backend = connection.attachment();
    backend.handler.send(Packets.command(connection.channel().alloc(), Mysql.COM_PING, new byte[0]),
        InternalExchange.of(new ResponseReader(ResponseReader.Shape.SINGLE, backend.variant.deprecateEof()),
            (reader, error) -> {
              if (error == null) {
                result.trySuccess(null);
              } else {
                result.tryFailure(new IllegalStateException("COM_PING refused: " + error));
              }
            },
            result::tryFailure));
  }

  /**
   * Sends a passthrough client's HandshakeResponse (owned; sequence id and CLIENT_SSL already set
   * for this connection) and expects the server's answers for {@code exchange}. When the greeting
   * said TLS, an SSLRequest made of the response's first 32 bytes (the client's capabilities, with
   * CLIENT_SSL) and the TLS handshake come first, so the server sees the same capabilities twice.
   */
  void relayLogin(PooledConnection connection, ByteBuf response, Exchange exchange) {
    MysqlBackend be = connection.attachment();
    Channel ch = connection.channel();
    ch.eventLoop().execute(() -> {
      if (!be.greeting.encrypted()) {
        be.handler.send(response, exchange);
        return;
      }
      ByteBuf ssl = Packets.start(ch.alloc(), be.greeting.responseSeq() - 1, 32);
      ssl.writeBytes(response, response.readerIndex() + 4, 32);
      ch.writeAndFlush(Packets.finish(ssl), ch.voidPromise());
      tls.startOn(ch).addListener(f -> {
        if (f.isSuccess()) {
          be.handler.send(response, exchange);
          return;
        }
        response.release();
        exchange.failed(f.cause());
        ch.close();
      });
    });
  }

  /**
   * Stops the statement running on {@code target}: opens a side connection to the same backend
   * on the target's event loop, logs in, sends {@code KILL QUERY <thread id>} and closes. Never
   * waits on the caller's thread. {@code done} runs once when the kill was answered or failed.
   */
  void killQuery(PooledConnection target, Runnable done) {
    MysqlBackend backend = target.attachment();
    if (backend == null) {
      done.run();
      return;
    }
    java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable finish = () -> {
      if (once.compareAndSet(false, true)) {
        done.run();
      }
    };
    Channel tc = target.channel();
    InetSocketAddress address = new InetSocketAddress(target.backend().config().address().host(),
        target.backend().config().address().port());
    Bootstrap b = new Bootstrap().group(tc.eventLoop()).channel(tc.getClass())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) KILL_TIMEOUT_MS)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            MysqlBackendConnector.this.initChannel(ch);
          }
        });
    ChannelFuture cf = b.connect(address);
    cf.addListener(f -> {
      if (!f.isSuccess()) {
        LOG.warn("KILL QUERY {} on {}: cannot connect: {}", backend.threadId, target.backend().id(),
            f.cause().toString());
        finish.run();
        return;
      }
      Channel ch = cf.channel();
      ch.closeFuture().addListener(cl -> finish.run());
      ch.eventLoop().schedule(() -> ch.close(), KILL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      Promise<MysqlBackend> login = ch.eventLoop().newPromise();
      login.addListener(lf -> {
        if (!lf.isSuccess()) {
          LOG.warn("KILL QUERY {} on {}: login failed: {}", backend.threadId, target.backend().id(),
              lf.cause().toString());
          ch.close();
          return;
        }
        MysqlBackend side = login.getNow();
        side.handler.send(Packets.query(ch.alloc(), "KILL QUERY " + backend.threadId),
            InternalExchange.of(new ResponseReader(ResponseReader.Shape.RESULTS, side.variant.deprecateEof(),
                side.cacheMetadata),
                (reader, error) -> {
                  if (error != null) {
                    LOG.debug("KILL QUERY {}: {}", backend.threadId, error);
                  }
                  ch.close();
                },
                cause -> ch.close()));
      });
      login(ch, Variant.DEFAULT, login);
    });
  }
}

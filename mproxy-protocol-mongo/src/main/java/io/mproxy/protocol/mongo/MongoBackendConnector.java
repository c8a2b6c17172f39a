package io.mproxy.protocol.mongo;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.mongo.codec.MongoFrame;
import io.mproxy.protocol.mongo.codec.MongoFrameDecoder;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.function.Consumer;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens MongoDB backend connections: installs the reply decoder and matcher, asks the server
 * {@code isMaster} (every server version and mongo-java-server answer it) and checks what it is
 * against the configured role — a backend configured as {@code primary} must be a writable
 * primary or a mongos, else the connection fails and the backend is marked down — then logs in
 * with the cluster's credentials when it has them (SCRAM-SHA-256, or SCRAM-SHA-1 when the
 * cluster says so). Remembers the lowest {@code maxWireVersion} seen, which the proxy's own
 * {@code hello} advertises to clients. With the cluster option {@code tls} the connection first
 * runs a TLS handshake (implicit TLS: MongoDB has no in-protocol upgrade), verifying the server
 * against {@code ca} and its address in {@code verify-full}; a failed handshake fails the
 * connection, so the backend is marked down. Also holds the cluster's {@link RoutingDirectory}
 * and {@link CursorReaper}.
 */
final class MongoBackendConnector implements BackendConnector {

  private static final Logger LOG = LoggerFactory.getLogger(MongoBackendConnector.class);
  /** OP_MSG needs wire version 6 (MongoDB 3.6). */
  static final int MIN_WIRE_VERSION = 6;
  /** What the proxy advertises before any backend answered: MongoDB 4.2, what mongo-java-server speaks. */
  static final int DEFAULT_WIRE_VERSION = 8;
  /** The largest reply accepted from a backend: a 16 MiB document plus headroom, as servers use 48 MB. */
  static final int MAX_REPLY_BYTES = 48_000_000;

  private final Credentials credentials;
  private final String authMechanism;
  private final String authSource;
  private final BackendTls tls;
  private final RoutingDirectory directory = new RoutingDirectory();
  private final CursorReaper reaper = new CursorReaper(this);
  private volatile int wireVersion = -1;

  MongoBackendConnector(ClusterConfig cluster) {
    this.credentials = cluster.credentials() == null ? Credentials.NONE : cluster.credentials();
    this.authMechanism = MongoProtocolAdapter.authMechanism(cluster);
    this.authSource = MongoProtocolAdapter.authSource(cluster);
    this.tls = BackendTls.parse(cluster.options().get(MongoProtocolAdapter.TLS), new ArrayList<>());
  }

  RoutingDirectory directory() {
    return directory;
  }

  /** Kills the cursors of clients that went away. */
  CursorReaper reaper() {
    return reaper;
  }

  /** The wire version to advertise: the lowest a backend reported, or {@link #DEFAULT_WIRE_VERSION}. */
  int wireVersion() {
    int v = wireVersion;
    return v < 0 ? DEFAULT_WIRE_VERSION : v;
  }

  @Override
  public void initChannel(Channel channel) {
    channel.pipeline()
        .addLast("mongo-decoder", new MongoFrameDecoder(MAX_REPLY_BYTES))
        .addLast("mongo-backend", new MongoBackendHandler());
  }

  @Override
  public void handshake(PooledConnection connection, Promise<Void> ready) {
    if (!tls.mode().wanted()) {
      greet(connection, ready);
      return;
    }
    Channel ch = connection.channel();
    tls.startOn(ch).addListener(f -> {
      if (f.isSuccess()) {
        greet(connection, ready);
      } else {
        ready.tryFailure(new IllegalStateException("TLS handshake with the backend failed: " + f.cause(), f.cause()));
        ch.close();
      }
    });
  }

  /** isMaster, the role check and, with credentials, the SCRAM login; {@code ready} completes after them. */
  private void greet(PooledConnection connection, Promise<Void> ready) {
    MongoBackendHandler handler = connection.channel().pipeline().get(MongoBackendHandler.class);
    connection.attach(handler);
    BsonDocument isMaster = new BsonDocument("isMaster", new BsonInt32(1))
        .append("helloOk", org.bson.BsonBoolean.TRUE)
        .append("client", new BsonDocument("driver", new BsonDocument("name", new BsonString("mproxy"))
            .append("version", new BsonString("0.1")))
            .append("os", new BsonDocument("type", new BsonString(System.getProperty("os.name", "unknown"))))
            .append("application", new BsonDocument("name", new BsonString("mproxy"))))
        .append("$db", new BsonString("admin"));
    command(connection, isMaster, ready, reply -> {
      String problem = checkRole(connection.backend().config().role(), reply);
      if (problem != null) {
        ready.tryFailure(new IllegalStateException(problem));
        return;
      }
      rememberWireVersion(reply);
      if (!credentials.present()) {
        ready.trySuccess(null);
        return;
      }
      authenticate(connection, ready);
    });
  }

  private void authenticate(PooledConnection connection, Promise<Void> ready) {
    new BackendScram(this, connection, credentials, authMechanism, authSource, ready).start();
  }

  /** Null when the server's own answer fits the configured role, else why not. */
  static String checkRole(BackendConfig.Role role, RawBsonDocument reply) {
    if (!isOk(reply)) {
      return "isMaster refused: " + reply.toJson();
    }
    int maxWire = reply.containsKey("maxWireVersion") ? reply.getNumber("maxWireVersion").intValue() : 0;
    if (maxWire < MIN_WIRE_VERSION) {
      return "server speaks wire version " + maxWire + " (expected: >= " + MIN_WIRE_VERSION
          + ", MongoDB 3.6, for OP_MSG)";
    }
    boolean writable = bool(reply, "isWritablePrimary") || bool(reply, "ismaster");
    boolean mongos = reply.containsKey("msg") && reply.get("msg").isString()
        && "isdbgrid".equals(reply.getString("msg").getValue());
    boolean secondary = bool(reply, "secondary");
    if (role == BackendConfig.Role.PRIMARY && !writable && !mongos) {
      return "configured as primary, but the server is not a writable primary or a mongos"
          + (secondary ? " (it is a secondary)" : "");
    }
    if (role == BackendConfig.Role.REPLICA && !secondary && !writable && !mongos) {
      return "configured as replica, but the server is neither a secondary nor a primary";
    }
    return null;
  }

  private void rememberWireVersion(RawBsonDocument reply) {
    int v = reply.getNumber("maxWireVersion").intValue();
    synchronized (this) {
      if (wireVersion < 0 || v < wireVersion) {
        wireVersion = v;
      }
    }
  }

  static boolean isOk(BsonDocument reply) {
    return reply.containsKey("ok") && reply.get("ok").isNumber() && reply.getNumber("ok").doubleValue() == 1.0;
  }

  private static boolean bool(BsonDocument d, String key) {
    return d.containsKey(key) && d.get(key).isBoolean() && d.getBoolean(key).getValue();
  }

  @Override
  public void probe(PooledConnection connection, Promise<Void> result) {
    BsonDocument ping = new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonString("admin"));
    command(connection, ping, result, reply -> {
      if (isOk(reply)) {
        result.trySuccess(null);
      } else {
        result.tryFailure(new IllegalStateException("ping refused: " + reply.toJson()));
      }
    });
  }

  /** Sends one command the proxy originates and hands its decoded reply to {@code then}. */
  void command(PooledConnection connection, BsonDocument body, Promise<Void> failTo,
      Consumer<RawBsonDocument> then) {
    MongoBackendHandler handler = connection.attachment();
    Channel ch = connection.channel();
    handler.send(MongoReplies.opMsg(ch.alloc(), MongoReplies.nextRequestId(), 0, 0, body), true,
        new ReplySink() {
          @Override
          public void reply(MongoFrame frame, boolean last) {
            RawBsonDocument doc;
            try {
              doc = ReplyScan.document(frame);
            } catch (RuntimeException e) {
              failTo.tryFailure(new IllegalStateException("unreadable reply to "
                  + body.getFirstKey() + ": " + e.getMessage()));
              return;
            } finally {
              frame.release();
            }
            try {
              then.accept(doc);
            } catch (RuntimeException e) {
              LOG.debug("backend {}: {} reply not understood", connection.backend().id(), body.getFirstKey(), e);
              failTo.tryFailure(e);
            }
          }

          @Override
          public void failed(Throwable cause) {
            failTo.tryFailure(cause);
          }
        });
  }
}

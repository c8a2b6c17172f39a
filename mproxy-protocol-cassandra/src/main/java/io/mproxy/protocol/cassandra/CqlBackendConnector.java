package io.mproxy.protocol.cassandra;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.pool.PooledConnection;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFrameEncoder;
import io.mproxy.protocol.cassandra.codec.CqlOpcode;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * Opens CQL backend connections: installs the codec and the stream multiplexer, then (with the
 * cluster's {@code tls: { mode: require | verify-full, ca }}) completes a TLS handshake, since a
 * node's encrypted native port speaks TLS from the first byte, then runs the start-up in the
 * variant's protocol version: STARTUP (asking for LZ4 when the cluster's
 * {@code compression: lz4} says so, whatever the clients chose: frames are decompressed at the
 * proxy and compressed again per side), SASL PLAIN with the cluster's credentials when the server
 * asks (PasswordAuthenticator), the switch to v5 segments, and {@code USE} of
 * the variant's keyspace. Also holds the cluster-wide prepared statement registry and the
 * backend's CQL version for the proxy's own SUPPORTED answers.
 */
final class CqlBackendConnector implements BackendConnector {

  /** Largest response body read from a backend (the protocol's own limit). */
  static final int MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
  static final int PREPARED_CAPACITY = 16_384;
  /** Keyspaces with their own pools, per cluster: clients cannot make the proxy open pools without end. */
  static final int MAX_KEYSPACES = 1_024;

  /** Cluster option: the compression mproxy asks the backends for ({@code none} or {@code lz4}). */
  static final String COMPRESSION = "compression";
  /** Cluster option: {@code tls: { mode, ca }}, TLS to the backends ({@code prefer} is refused by the adapter). */
  static final String TLS = "tls";

  private final Credentials credentials;
  private final boolean lz4;
  private final BackendTls tls;
  private final PreparedStatements prepared = new PreparedStatements(PREPARED_CAPACITY);
  private final java.util.Set<String> keyspaces = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile String cqlVersion = "3.4.7";

  CqlBackendConnector(ClusterConfig cluster) {
    this.credentials = cluster.credentials() == null ? Credentials.NONE : cluster.credentials();
    this.lz4 = CqlMessages.LZ4.equals(cluster.options().get(COMPRESSION));
    this.tls = BackendTls.parse(cluster.options().get(TLS), new java.util.ArrayList<>());
  }

  /** Whether backend connections are LZ4-compressed. */
  boolean compresses() {
    return lz4;
  }

  PreparedStatements prepared() {
    return prepared;
  }

  String cqlVersion() {
    return cqlVersion;
  }

  /**
   * Whether requests may use pools of {@code keyspace}: true for every keyspace seen before and
   * for new ones while fewer than {@link #MAX_KEYSPACES} are known. Thread-safe.
   */
  boolean admitKeyspace(String keyspace) {
    if (keyspace == null || keyspaces.contains(keyspace)) {
      return true;
    }
    if (keyspaces.size() >= MAX_KEYSPACES) {
      return false;
    }
    keyspaces.add(keyspace);
    return true;
  }

  /**
   * Shared requests a backend connection carries before the pool spreads them over another: as
   * many as a driver's own connection to a node (the Java driver's default
   * {@code max-requests-per-connection}). Packed, the requests of a loop's clients reach the node
   * in one read and their answers leave it in one write, and every request stays on its client's
   * event loop; spread to the least loaded connection, a burst of 32 opened every connection the
   * pool allowed, half of them on the other loop (two thread hops per request).
   */
  static final int PACK_DEPTH = 1024;

  @Override
  public int sharedPackDepth() {
    return PACK_DEPTH;
  }

  @Override
  public void initChannel(Channel channel) {
    channel.pipeline()
        .addLast("cql-decoder", new CqlFrameDecoder(true, MAX_RESPONSE_BYTES))
        .addLast("cql-encoder", new CqlFrameEncoder())
        .addLast("cql-backend", new CqlBackendHandler());
  }

  @Override
  public void handshake(PooledConnection connection, Promise<Void> ready) {
    if (!tls.mode().wanted()) {
      startup(connection, ready);
      return;
    }
    Channel ch = connection.channel();
    tls.startOn(ch).addListener(f -> {
      if (f.isSuccess()) {
        startup(connection, ready);
      } else {
        ready.tryFailure(new IllegalStateException("TLS handshake with the backend failed: " + f.cause(), f.cause()));
        ch.close();
      }
    });
  }

  /** STARTUP, then SASL PLAIN when asked, then {@code USE} of the variant's keyspace. */
  private void startup(PooledConnection connection, Promise<Void> ready) {
    CqlBackendHandler handler = connection.channel().pipeline().get(CqlBackendHandler.class);
    connection.attach(handler);
    CqlVariant variant = CqlVariant.parse(connection.variant());
    Channel ch = connection.channel();
    int version = variant.version();
    if (lz4) {
      handler.expectCompressedResponses();
    }
    handler.send(CqlMessages.startup(ch.alloc(), version, 0, lz4), new Step(ready) {
      @Override
      void answered(CqlFrame frame) {
        if (frame.opcode() == CqlOpcode.READY) {
          handler.started(version, lz4);
          useKeyspace(handler, ch, variant, ready);
        } else if (frame.opcode() == CqlOpcode.AUTHENTICATE) {
          handler.started(version, lz4);
          authenticate(handler, ch, variant, ready);
        } else {
          fail(frame, "STARTUP");
        }
      }
    });
  }

  private void authenticate(CqlBackendHandler handler, Channel ch, CqlVariant variant, Promise<Void> ready) {
    if (!credentials.present()) {
      ready.tryFailure(new IllegalStateException("the backend asks for a password and the cluster has no credentials"));
      return;
    }
    String user = credentials.user() == null ? "" : credentials.user();
    handler.send(CqlMessages.plainAuthResponse(ch.alloc(), variant.version(), 0, user, credentials.password()),
        new Step(ready) {
          @Override
          void answered(CqlFrame frame) {
            if (frame.opcode() == CqlOpcode.AUTH_SUCCESS) {
              useKeyspace(handler, ch, variant, ready);
            } else {
              fail(frame, "login as " + user);
            }
          }
        });
  }

  /**
   * {@code USE "ks"} for a keyspace variant. A keyspace that does not exist leaves the
   * connection usable without one: the client's own {@code USE} through it then gets the
   * server's error, and nothing else is sent on it.
   */
  private static void useKeyspace(CqlBackendHandler handler, Channel ch, CqlVariant variant, Promise<Void> ready) {
    if (variant.keyspace() == null) {
      ready.trySuccess(null);
      return;
    }
    handler.send(CqlMessages.query(ch.alloc(), variant.version(), 0, "USE \"" + variant.keyspace() + "\""),
        new Step(ready) {
          @Override
          void answered(CqlFrame frame) {
            ready.trySuccess(null);
          }
        });
  }

  @Override
  public void probe(PooledConnection connection, Promise<Void> result) {
    CqlBackendHandler handler = connection.attachment();
    CqlVariant variant = CqlVariant.parse(connection.variant());
    handler.send(CqlMessages.options(variant.version(), 0), new Step(result) {
      @Override
      void answered(CqlFrame frame) {
        if (frame.opcode() != CqlOpcode.SUPPORTED) {
          fail(frame, "OPTIONS");
          return;
        }
        rememberCqlVersion(frame);
        result.trySuccess(null);
      }
    });
  }

  private void rememberCqlVersion(CqlFrame supported) {
    try {
      io.netty.buffer.ByteBuf b = supported.body().duplicate();
      int n = b.readUnsignedShort();
      for (int i = 0; i < n; i++) {
        String key = CqlWire.readString(b);
        java.util.List<String> values = CqlWire.readStringList(b);
        if (key.equals("CQL_VERSION") && !values.isEmpty()) {
          cqlVersion = values.get(0);
        }
      }
    } catch (RuntimeException e) {
      // keep the previous version: SUPPORTED is informational
    }
  }

  /** One request of the proxy's own start-up or probe; releases the answer. */
  private abstract static class Step implements CqlBackendHandler.ProxyOwned {
    private final Promise<Void> promise;

    Step(Promise<Void> promise) {
      this.promise = promise;
    }

    @Override
    public final void response(CqlFrame frame) {
      try {
        answered(frame);
      } catch (RuntimeException e) {
        promise.tryFailure(e);
      } finally {
        frame.release();
      }
    }

    abstract void answered(CqlFrame frame);

    void fail(CqlFrame frame, String what) {
      String detail = frame.opcode() == CqlOpcode.ERROR
          ? "error 0x" + Integer.toHexString(CqlMessages.errorCode(frame)) + ": " + CqlMessages.errorMessage(frame)
          : "unexpected " + CqlOpcode.name(frame.opcode());
      promise.tryFailure(new IllegalStateException(what + " refused by backend: " + detail));
    }

    @Override
    public void failed(Throwable cause) {
      promise.tryFailure(cause);
    }
  }
}

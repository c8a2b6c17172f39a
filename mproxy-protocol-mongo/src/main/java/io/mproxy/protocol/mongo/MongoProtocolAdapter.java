package io.mproxy.protocol.mongo;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.tls.ImplicitTls;
import io.mproxy.core.tls.ServerTls;
import io.mproxy.protocol.mongo.codec.MongoFrameDecoder;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The MongoDB wire protocol for mproxy. The proxy presents itself to drivers as one mongos (it
 * answers {@code hello}/{@code isMaster} itself, also for {@code loadBalanced=true}), terminates
 * SCRAM authentication against the listener's users, pools backend connections with a short
 * exclusive lease per operation, and keeps cursors and transactions on the backend that owns
 * them. Cluster options: {@code auth_mechanism} ({@code SCRAM-SHA-256} default, or
 * {@code SCRAM-SHA-1}) and {@code auth_source} ({@code admin} default) for the proxy's own login.
 * Listener option {@code tls: { cert, key }} and cluster option {@code tls: { mode, ca }} give
 * implicit TLS (from the first byte, what a driver's {@code tls=true} speaks: MongoDB has no
 * in-protocol upgrade) with the same reloadable contexts as the other protocols.
 * No connection-level refusal bytes: a driver reads any unsolicited reply as a broken handshake,
 * so a refused connection's first message is answered and the connection closed.
 */
public final class MongoProtocolAdapter implements ProtocolAdapter {

  static final String AUTH_MECHANISM = "auth_mechanism";
  static final String AUTH_SOURCE = "auth_source";
  static final String TLS = "tls";
  static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
  static final String SCRAM_SHA_1 = "SCRAM-SHA-1";
  /** The largest message a server accepts; also what the proxy advertises at most. */
  public static final int MAX_MESSAGE_SIZE_BYTES = 48_000_000;

  /** Parsed listener TLS by the options map it came from (read off the event loops, in validate). */
  private final ImplicitTls implicitTls = new ImplicitTls("MongoDB");

  @Override
  public String protocol() {
    return "mongodb";
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return Set.of(TLS, io.mproxy.core.request.QueryTimeout.KEY);
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(AUTH_MECHANISM, AUTH_SOURCE, TLS);
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>();
    io.mproxy.core.request.QueryTimeout.parse(listener.options(), problems);
    for (var u : listener.auth().users()) {
      if (u.scramVerifier() != null) {
        try {
          MongoVerifiers.parse(u.scramVerifier());
        } catch (IllegalArgumentException e) {
          problems.add("auth.users." + u.name() + ".scram_verifier: " + e.getMessage());
        }
      }
    }
    implicitTls.validateListener(listener.options(), listener.options().get(TLS), problems);
    return problems;
  }

  /** The listener's TLS, or null. */
  ServerTls serverTls(ListenerConfig listener) {
    return implicitTls.listener(listener.options(), listener.options().get(TLS));
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>();
    Object m = cluster.options().get(AUTH_MECHANISM);
    if (m != null && !SCRAM_SHA_256.equals(m) && !SCRAM_SHA_1.equals(m)) {
      problems.add(AUTH_MECHANISM + ": " + m + " (expected: SCRAM-SHA-256 or SCRAM-SHA-1)");
    }
    Object s = cluster.options().get(AUTH_SOURCE);
    if (s != null && (!(s instanceof String str) || str.isBlank())) {
      problems.add(AUTH_SOURCE + ": " + s + " (expected: a database name)");
    }
    implicitTls.cluster(cluster.options().get(TLS), problems);
    return problems;
  }

  static String authMechanism(ClusterConfig cluster) {
    Object m = cluster.options().get(AUTH_MECHANISM);
    return m instanceof String s ? s : SCRAM_SHA_256;
  }

  static String authSource(ClusterConfig cluster) {
    Object s = cluster.options().get(AUTH_SOURCE);
    return s instanceof String str ? str : "admin";
  }

  /** The message size limit of a listener: its {@code max_frame_bytes}, at most 48 MB. */
  static int maxMessageBytes(ListenerConfig listener) {
    return Math.max(1024, Math.min(listener.maxFrameBytes(), MAX_MESSAGE_SIZE_BYTES));
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    ServerTls tls = serverTls(listener.config());
    if (tls != null) {
      // implicit TLS: the newest context from the files, so rotated certificates reach new handshakes
      channel.pipeline().addLast("tls", tls.context().newHandler(channel.alloc()));
    }
    channel.pipeline()
        .addLast("mongo-decoder", new MongoFrameDecoder(maxMessageBytes(listener.config())))
        .addLast("mongo-session", new MongoSession(listener));
  }

  /** The largest first message a refused client may send (a {@code hello} is a few hundred bytes). */
  static final int REFUSED_MAX_MESSAGE_BYTES = 64 * 1024;

  /** On a TLS listener the refusal answers inside TLS (the driver's hello comes after its handshake). */
  @Override
  public void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    ServerTls tls = serverTls(listener.config());
    if (tls != null) {
      channel.pipeline().addLast("tls", tls.context().newHandler(channel.alloc()));
    }
    channel.pipeline()
        .addLast("mongo-decoder", new MongoFrameDecoder(REFUSED_MAX_MESSAGE_BYTES))
        .addLast("mongo-refusal", new MongoConnectionRefusal(message));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new MongoBackendConnector(cluster);
  }
}

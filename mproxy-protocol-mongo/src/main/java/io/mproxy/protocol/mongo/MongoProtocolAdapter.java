package io.mproxy.protocol.mongo;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
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
 * No connection-level refusal bytes: a driver reads any unsolicited reply as a broken handshake,
 * so refused connections are just closed.
 */
public final class MongoProtocolAdapter implements ProtocolAdapter {

  static final String AUTH_MECHANISM = "auth_mechanism";
  static final String AUTH_SOURCE = "auth_source";
  static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
  static final String SCRAM_SHA_1 = "SCRAM-SHA-1";
  /** The largest message a server accepts; also what the proxy advertises at most. */
  public static final int MAX_MESSAGE_SIZE_BYTES = 48_000_000;

  @Override
  public String protocol() {
    return "mongodb";
  }

  @Override
  public Set<String> listenerOptionKeys() {
    return Set.of(io.mproxy.core.request.QueryTimeout.KEY);
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(AUTH_MECHANISM, AUTH_SOURCE);
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
    return problems;
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
    channel.pipeline()
        .addLast("mongo-decoder", new MongoFrameDecoder(maxMessageBytes(listener.config())))
        .addLast("mongo-session", new MongoSession(listener));
  }

  /** The largest first message a refused client may send (a {@code hello} is a few hundred bytes). */
  static final int REFUSED_MAX_MESSAGE_BYTES = 64 * 1024;

  @Override
  public void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    channel.pipeline()
        .addLast("mongo-decoder", new MongoFrameDecoder(REFUSED_MAX_MESSAGE_BYTES))
        .addLast("mongo-refusal", new MongoConnectionRefusal(message));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new MongoBackendConnector(cluster);
  }
}

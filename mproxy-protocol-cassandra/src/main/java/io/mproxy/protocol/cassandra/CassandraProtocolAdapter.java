package io.mproxy.protocol.cassandra;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.tls.ImplicitTls;
import io.mproxy.core.tls.ServerTls;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFrameEncoder;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The Cassandra CQL native protocol (v4 and v5) for mproxy: many client connections multiplexed
 * over a few shared backend connections per protocol version and keyspace, with stream ids
 * remapped, authentication terminated at the proxy and the topology tables rewritten so drivers
 * see only the proxy. LZ4 compression is negotiated per side: clients choose it in STARTUP
 * (listener option {@code compression}, default {@code lz4} offered), the proxy asks the backends
 * for it when the cluster says {@code compression: lz4}; snappy is refused. Listener option
 * {@code tls: { cert, key }} gives clients implicit TLS (from the first byte, as a node with
 * {@code client_encryption_options: { enabled: true, optional: false }} speaks it) with the same
 * reloadable contexts as the other protocols; cluster option {@code tls: { mode: disable | require |
 * verify-full, ca }} does the same toward the nodes.
 */
public final class CassandraProtocolAdapter implements ProtocolAdapter {

  @Override
  public String protocol() {
    return "cassandra";
  }

  /** Listener option: what compression clients may ask for ({@code lz4}, the default, or {@code none}). */
  static final String COMPRESSION = "compression";
  private static final Set<String> COMPRESSIONS = Set.of("none", CqlMessages.LZ4);
  /** Listener option: {@code tls: { cert, key }}, implicit TLS to clients. */
  static final String TLS = "tls";

  /** Parsed listener TLS by the options map it came from (read off the event loops, in validate). */
  private final ImplicitTls implicitTls = new ImplicitTls("Cassandra");

  @Override
  public Set<String> listenerOptionKeys() {
    return Set.of(COMPRESSION, TLS, io.mproxy.core.request.QueryTimeout.KEY);
  }

  @Override
  public Set<String> clusterOptionKeys() {
    return Set.of(CqlBackendConnector.COMPRESSION, CqlBackendConnector.TLS);
  }

  @Override
  public List<String> validate(ListenerConfig listener) {
    List<String> problems = new ArrayList<>(compressionProblems(listener.options().get(COMPRESSION)));
    implicitTls.validateListener(listener.options(), listener.options().get(TLS), problems);
    io.mproxy.core.request.QueryTimeout.parse(listener.options(), problems);
    return problems;
  }

  /** The listener's TLS, or null. */
  ServerTls serverTls(ListenerConfig listener) {
    return implicitTls.listener(listener.options(), listener.options().get(TLS));
  }

  @Override
  public List<String> validate(ClusterConfig cluster) {
    List<String> problems = new ArrayList<>(compressionProblems(cluster.options().get(CqlBackendConnector.COMPRESSION)));
    implicitTls.cluster(cluster.options().get(CqlBackendConnector.TLS), problems);
    return problems;
  }

  private static List<String> compressionProblems(Object value) {
    if (value == null || COMPRESSIONS.contains(value)) {
      return List.of();
    }
    return List.of(COMPRESSION + ": " + value + " (expected: lz4 or none; snappy is not supported)");
  }

  /** Whether the listener lets clients ask for LZ4 (it does unless {@code compression: none}). */
  static boolean offersLz4(ListenerConfig listener) {
    return !"none".equals(listener.options().get(COMPRESSION));
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    addTls(channel, listener);
    channel.pipeline()
        .addLast("cql-decoder", new CqlFrameDecoder(false, listener.config().maxFrameBytes()))
        .addLast("cql-encoder", new CqlFrameEncoder())
        .addLast("cql-session", new CqlSession(listener));
  }

  /** The largest first frame body a refused client may send (OPTIONS is empty, STARTUP tiny). */
  static final int REFUSED_MAX_FRAME_BYTES = 64 * 1024;

  @Override
  public void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    addTls(channel, listener); // the refusal answers the first frame, inside TLS on a TLS listener
    channel.pipeline()
        .addLast("cql-decoder", new CqlFrameDecoder(false, REFUSED_MAX_FRAME_BYTES))
        .addLast("cql-encoder", new CqlFrameEncoder())
        .addLast("cql-refusal", new CqlConnectionRefusal(message));
  }

  /** Implicit TLS: the newest context from the files, so rotated certificates reach new handshakes. */
  private void addTls(Channel channel, ListenerContext listener) {
    ServerTls tls = serverTls(listener.config());
    if (tls != null) {
      channel.pipeline().addLast("tls", tls.context().newHandler(channel.alloc()));
    }
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new CqlBackendConnector(cluster);
  }
}

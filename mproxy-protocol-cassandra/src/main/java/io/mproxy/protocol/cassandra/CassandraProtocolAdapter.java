package io.mproxy.protocol.cassandra;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.spi.BackendConnector;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.protocol.cassandra.codec.CqlFrameDecoder;
import io.mproxy.protocol.cassandra.codec.CqlFrameEncoder;
import io.netty.channel.Channel;

/**
 * The Cassandra CQL native protocol (v4 and v5) for mproxy: many client connections multiplexed
 * over a few shared backend connections per protocol version and keyspace, with stream ids
 * remapped, authentication terminated at the proxy and the topology tables rewritten so drivers
 * see only the proxy.
 */
public final class CassandraProtocolAdapter implements ProtocolAdapter {

  @Override
  public String protocol() {
    return "cassandra";
  }

  @Override
  public void initClientChannel(Channel channel, ListenerContext listener) {
    channel.pipeline()
        .addLast("cql-decoder", new CqlFrameDecoder(false, listener.config().maxFrameBytes()))
        .addLast("cql-encoder", new CqlFrameEncoder())
        .addLast("cql-session", new CqlSession(listener));
  }

  /** The largest first frame body a refused client may send (OPTIONS is empty, STARTUP tiny). */
  static final int REFUSED_MAX_FRAME_BYTES = 64 * 1024;

  @Override
  public void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    channel.pipeline()
        .addLast("cql-decoder", new CqlFrameDecoder(false, REFUSED_MAX_FRAME_BYTES))
        .addLast("cql-encoder", new CqlFrameEncoder())
        .addLast("cql-refusal", new CqlConnectionRefusal(message));
  }

  @Override
  public BackendConnector backendConnector(ClusterConfig cluster) {
    return new CqlBackendConnector(cluster);
  }
}

package io.mproxy.core.spi;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.netty.channel.Channel;
import java.util.List;
import java.util.Set;

/**
 * Everything the server needs to know about one wire protocol. Each {@code mproxy-protocol-*}
 * module registers exactly one implementation in
 * {@code META-INF/services/io.mproxy.core.spi.ProtocolAdapter}; the server finds it with
 * {@link java.util.ServiceLoader} and never names a protocol itself.
 */
public interface ProtocolAdapter {

  /** The {@code protocol:} value of listeners and clusters, e.g. {@code redis}. */
  String protocol();

  /** Keys this protocol accepts under a listener beyond the common ones (go into options). */
  default Set<String> listenerOptionKeys() {
    return Set.of();
  }

  /** Keys this protocol accepts under a cluster beyond the common ones (go into options). */
  default Set<String> clusterOptionKeys() {
    return Set.of();
  }

  /** Problems with a listener's protocol-specific settings, each as {@code key: message}. */
  default List<String> validate(ListenerConfig listener) {
    return List.of();
  }

  /** Problems with a cluster's protocol-specific settings, each as {@code key: message}. */
  default List<String> validate(ClusterConfig cluster) {
    return List.of();
  }

  /**
   * Installs this protocol's codec and session handler on a freshly accepted client channel.
   * Runs on the channel's event loop; must not block.
   */
  void initClientChannel(Channel channel, ListenerContext listener);

  /** How connections to this cluster's backends are opened, handshaken and probed. */
  BackendConnector backendConnector(ClusterConfig cluster);

  /**
   * The bytes a client gets when the proxy refuses its connection outright (too many clients,
   * shutting down), in the protocol's own error format, or null to just close.
   */
  default io.netty.buffer.ByteBuf connectionRefusal(io.netty.buffer.ByteBufAllocator alloc, String message) {
    return null;
  }

  /**
   * Refuses a just-accepted connection (too many clients, too many new connections, shutting
   * down). The default writes {@link #connectionRefusal} and closes, which suits protocols where
   * the server may speak first. A protocol whose errors can only answer a request (MongoDB, CQL)
   * overrides it to read the client's first message, answer it with an error and close; the
   * server closes the channel anyway after a short bound, so the override need not time out.
   * Runs on the channel's event loop; must not block.
   */
  default void refuseClientChannel(Channel channel, ListenerContext listener, String message) {
    io.netty.buffer.ByteBuf refusal = connectionRefusal(channel.alloc(), message);
    if (refusal == null) {
      channel.close();
    } else {
      channel.writeAndFlush(refusal).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
  }
}

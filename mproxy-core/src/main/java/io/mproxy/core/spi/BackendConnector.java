package io.mproxy.core.spi;

import io.mproxy.core.pool.PooledConnection;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * How a protocol opens, handshakes and probes its backend connections. The pool owns the
 * sockets; the protocol owns what is said on them. All methods run on the connection's event
 * loop and must not block.
 */
public interface BackendConnector {

  /** Installs the protocol's backend codec and handler on a new channel, before it connects. */
  void initChannel(Channel channel);

  /**
   * Runs the protocol's start-up on a connected channel (authenticate with the cluster's
   * credentials, select a database, negotiate a protocol version) and completes {@code ready}
   * when the connection can carry requests, or fails it with the reason.
   */
  void handshake(PooledConnection connection, Promise<Void> ready);

  /**
   * Checks that the backend answers, using the given ready connection (e.g. Redis PING),
   * completing {@code result} when it did.
   */
  void probe(PooledConnection connection, Promise<Void> result);

  /**
   * How many shared requests one connection should carry before the pool spreads them over
   * another; 0 (the default) spreads every request to the least loaded connection. A server that
   * runs one command at a time (Redis) gains nothing from spreading and a great deal from
   * packing: the commands of many clients then reach it in one read and leave in one write, as
   * with twemproxy's single server connection. Packing stays on the requester's event loop.
   */
  default int sharedPackDepth() {
    return 0;
  }
}

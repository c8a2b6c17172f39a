package io.mproxy.core.spi;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.time.Clock;

/**
 * What a protocol session can reach of the running proxy for the listener it was accepted on.
 * Every getter returns the current value: after a reload, the next call sees the new config,
 * cluster and limits, so live connections pick them up without reconnecting.
 */
public interface ListenerContext {

  /** The listener's current configuration. */
  ListenerConfig config();

  /** The metric labels of this listener. */
  Origin origin();

  /** The core chain: classification and admission. */
  Gateway gateway();

  /** The cluster this listener forwards to. */
  Cluster cluster();

  Clock clock();

  /**
   * The per-source-address login throttle of this listener: ask {@code refusal} before checking
   * credentials, report {@code failed} when they are wrong. Default: never refuses.
   */
  default io.mproxy.core.auth.AuthFailureLimiter authFailures() {
    return io.mproxy.core.auth.AuthFailureLimiter.NONE;
  }

  /**
   * The client on {@code channel} has completed the protocol's login/handshake: the server stops
   * its handshake timer ({@code handshake_timeout_ms}). Sessions call it once, on the channel's
   * event loop. Default: nothing to stop.
   */
  default void handshakeCompleted(io.netty.channel.Channel channel) {
  }
}

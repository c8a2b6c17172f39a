package io.mproxy.core.config;

import java.util.Map;

/**
 * One client-facing socket. {@code options} holds protocol-specific keys (documented per
 * protocol in docs/), already type-checked by the protocol adapter.
 *
 * @param maxClientConnections connections above this are refused with the protocol's error
 * @param maxFrameBytes the largest client frame accepted before the connection is refused
 * @param clientLimits accept rate, handshake timeout and auth-failure blocking
 */
public record ListenerConfig(
    String name,
    String protocol,
    HostPort bind,
    String cluster,
    AuthConfig auth,
    int maxClientConnections,
    int maxFrameBytes,
    Map<String, Object> options,
    ClientLimits clientLimits) {

  public static final int DEFAULT_MAX_CLIENT_CONNECTIONS = 10_000;
  public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

  public ListenerConfig {
    options = Map.copyOf(options);
    clientLimits = clientLimits == null ? ClientLimits.DEFAULTS : clientLimits;
  }

  /** A listener with the default {@link ClientLimits}. */
  public ListenerConfig(String name, String protocol, HostPort bind, String cluster, AuthConfig auth,
      int maxClientConnections, int maxFrameBytes, Map<String, Object> options) {
    this(name, protocol, bind, cluster, auth, maxClientConnections, maxFrameBytes, options,
        ClientLimits.DEFAULTS);
  }
}

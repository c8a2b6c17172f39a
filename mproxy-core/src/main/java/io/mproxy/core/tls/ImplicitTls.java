package io.mproxy.core.tls;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * TLS options of a protocol whose TLS starts at the first byte (Redis, MongoDB, CQL): a listener's
 * {@code tls: { cert, key }}, parsed once in validation and kept for the listener's channels, and a
 * cluster's {@code tls: { mode, ca }}, where {@code prefer} is refused because there is no
 * plain-text exchange to fall back from.
 */
public final class ImplicitTls {

  private final String protocol;
  /** Listener options already parsed, so the first connection of a config does not read files. */
  private final Map<Map<String, Object>, Optional<ServerTls>> listeners = new ConcurrentHashMap<>();

  /** @param protocol the protocol's name as operators know it, for error messages */
  public ImplicitTls(String protocol) {
    this.protocol = protocol;
  }

  /** Checks a listener's {@code tls} value, adding what is wrong to {@code problems}. */
  public void validateListener(Map<String, Object> options, Object value, List<String> problems) {
    List<String> own = new ArrayList<>();
    ServerTls tls = ServerTls.parse(value, own);
    if (own.isEmpty()) {
      listeners.put(options, Optional.ofNullable(tls));
    }
    problems.addAll(own);
  }

  /** The listener's TLS, or null; parsed here only if validation did not see these options. */
  public ServerTls listener(Map<String, Object> options, Object value) {
    Optional<ServerTls> tls = listeners.get(options);
    if (tls == null) {
      tls = Optional.ofNullable(ServerTls.parse(value, new ArrayList<>()));
      listeners.put(options, tls);
    }
    return tls.orElse(null);
  }

  /** Parses a cluster's {@code tls} value, refusing {@code prefer}. */
  public BackendTls cluster(Object value, List<String> problems) {
    BackendTls tls = BackendTls.parse(value, problems);
    if (tls.mode() == BackendTls.Mode.PREFER) {
      problems.add("tls.mode: prefer is not possible with " + protocol + " (TLS starts at the first byte,"
          + " there is nothing to fall back from); use require or verify-full");
    }
    return tls;
  }
}

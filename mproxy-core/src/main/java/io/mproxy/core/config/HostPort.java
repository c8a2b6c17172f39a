package io.mproxy.core.config;

import java.net.InetSocketAddress;

/** A {@code host:port} pair as written in the config; resolved only off the event loop. */
public record HostPort(String host, int port) {

  public HostPort {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host is empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " (expected: 0..65535)");
    }
  }

  /** Parses {@code host:port} or {@code [v6]:port}; throws with a readable message. */
  public static HostPort parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("address is missing (expected: host:port)");
    }
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' (expected: host:port)");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has no numeric port (expected: host:port)");
    }
    return new HostPort(host, port);
  }

  public InetSocketAddress toUnresolved() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}

package io.mproxy.core.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The admin HTTP endpoint (metrics, health, status, reload, dashboard). The admin API can reload
 * the configuration and shows every tenant's traffic, so it binds to loopback by default; bound
 * anywhere else it needs {@code token}, the bearer token every endpoint except {@code /healthz}
 * then requires (the config loader refuses a non-loopback bind without one). {@link #toString}
 * never shows the token.
 *
 * @param token the bearer token, or null for none (only allowed on loopback)
 */
public record AdminConfig(HostPort bind, String token) {

  public static final AdminConfig DEFAULT = new AdminConfig(new HostPort("127.0.0.1", 9901));

  /** Without a token. */
  public AdminConfig(HostPort bind) {
    this(bind, null);
  }

  /** Whether requests must carry {@code Authorization: Bearer <token>}. */
  public boolean requiresToken() {
    return token != null;
  }

  /**
   * Whether {@code host} names only this machine: {@code localhost}, {@code 127.0.0.0/8} or
   * {@code ::1}. Decided from the text alone (no DNS): any other name counts as reachable.
   */
  public static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equals("localhost")) {
      return true;
    }
    if (h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      return true;
    }
    if (!h.contains(":") || !h.matches("[0-9a-f:.]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress(); // an IPv6 literal: no lookup
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "AdminConfig[bind=" + bind + ", token=" + (token == null ? "none" : "(set)") + "]";
  }
}

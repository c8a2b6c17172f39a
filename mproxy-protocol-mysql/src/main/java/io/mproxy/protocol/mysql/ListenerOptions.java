package io.mproxy.protocol.mysql;

import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.tls.ServerTls;
import io.mproxy.protocol.mysql.auth.Scrambles;
import java.util.List;
import java.util.Map;

/**
 * A MySQL listener's own settings, read from its options (keys documented in docs/mysql.md).
 *
 * @param authPlugin the plugin the proxy asks clients for: mysql_native_password or caching_sha2_password
 * @param queryTimeoutMs statements running longer are stopped with KILL QUERY on the backend (0: none)
 * @param waitTimeoutMs idle clients are disconnected after this (0: never)
 * @param maxConnectionsPerUser per user on this listener (0: no limit)
 * @param tls the certificate offered to clients that send SSLRequest, or null
 * @param serverVersion the version string of the greeting, or null for the backends' own
 */
record ListenerOptions(String authPlugin, long queryTimeoutMs, long waitTimeoutMs, int maxConnectionsPerUser,
    ServerTls tls, String serverVersion) {

  static final String AUTH_PLUGIN = "auth_plugin";
  static final String QUERY_TIMEOUT_MS = "query_timeout_ms";
  static final String WAIT_TIMEOUT_MS = "wait_timeout_ms";
  static final String MAX_CONNECTIONS_PER_USER = "max_connections_per_user";
  static final String TLS = "tls";
  static final String SERVER_VERSION = "server_version";
  static final List<String> KEYS = List.of(AUTH_PLUGIN, QUERY_TIMEOUT_MS, WAIT_TIMEOUT_MS,
      MAX_CONNECTIONS_PER_USER, TLS, SERVER_VERSION);
  static final long DEFAULT_WAIT_TIMEOUT_MS = 28_800_000L;

  /** Reads and checks the options; problems are added as {@code key: message}. */
  static ListenerOptions parse(ListenerConfig listener, List<String> problems) {
    Map<String, Object> o = listener.options();
    String plugin = Scrambles.NATIVE;
    Object p = o.get(AUTH_PLUGIN);
    if (p != null) {
      if (Scrambles.NATIVE.equals(p) || Scrambles.CACHING_SHA2.equals(p)) {
        plugin = (String) p;
      } else {
        problems.add(AUTH_PLUGIN + ": " + p + " (expected: mysql_native_password or caching_sha2_password)");
      }
    }
    long queryTimeout = number(o, QUERY_TIMEOUT_MS, 0, 0, 86_400_000L, problems);
    long waitTimeout = number(o, WAIT_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS, 0, 31_536_000_000L, problems);
    int perUser = (int) number(o, MAX_CONNECTIONS_PER_USER, 0, 0, 1_000_000, problems);
    ServerTls tls = ServerTls.parse(o.get(TLS), problems);
    Object v = o.get(SERVER_VERSION);
    String version = null;
    if (v != null) {
      if (v instanceof String s && !s.isEmpty() && s.length() <= 64 && s.chars().allMatch(c -> c > ' ' && c < 127)) {
        version = s;
      } else {
        problems.add(SERVER_VERSION + ": " + v + " (expected: a version string such as 8.0.36-mproxy)");
      }
    }
    return new ListenerOptions(plugin, queryTimeout, waitTimeout, perUser, tls, version);
  }

  private static long number(Map<String, Object> o, String key, long dflt, long min, long max,
      List<String> problems) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.longValue() < min || n.longValue() > max) {
      problems.add(key + ": " + v + " (expected: an integer " + min + ".." + max + ")");
      return dflt;
    }
    return n.longValue();
  }
}

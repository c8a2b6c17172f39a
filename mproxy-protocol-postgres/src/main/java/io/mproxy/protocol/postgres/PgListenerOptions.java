package io.mproxy.protocol.postgres;

import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.tls.ServerTls;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * PostgreSQL settings of a listener (documented in docs/postgres.md): {@code auth_method}
 * ({@code scram-sha-256} or {@code md5}), {@code tls} (certificate for SSLRequest),
 * {@code ignore_startup_parameters}, {@code max_client_connections_per_user},
 * {@code query_wait_timeout_ms}, {@code query_timeout_ms}, {@code idle_transaction_timeout_ms}.
 */
record PgListenerOptions(AuthMethod authMethod, ServerTls tls, Set<String> ignoreStartupParameters,
    int maxClientConnectionsPerUser, long queryWaitTimeoutMs, long queryTimeoutMs,
    long idleTransactionTimeoutMs) {

  enum AuthMethod { SCRAM_SHA_256, MD5 }

  static final Set<String> KEYS = Set.of("auth_method", "tls", "ignore_startup_parameters",
      "max_client_connections_per_user", "query_wait_timeout_ms", "query_timeout_ms",
      "idle_transaction_timeout_ms");

  static PgListenerOptions read(ListenerConfig listener, List<String> problems) {
    Map<String, Object> o = listener.options();
    String method = PgOptions.string(o, "auth_method", "scram-sha-256", problems);
    AuthMethod authMethod = switch (method.toLowerCase(Locale.ROOT)) {
      case "scram-sha-256" -> AuthMethod.SCRAM_SHA_256;
      case "md5" -> AuthMethod.MD5;
      default -> {
        problems.add("auth_method: '" + method + "' is not one of scram-sha-256, md5");
        yield AuthMethod.SCRAM_SHA_256;
      }
    };
    ServerTls tls = ServerTls.parse(o.get("tls"), problems);
    Set<String> ignore = PgOptions.stringSet(o, "ignore_startup_parameters", problems);
    int perUser = PgOptions.integer(o, "max_client_connections_per_user", 0, 0, 1_000_000, problems);
    long wait = PgOptions.integer(o, "query_wait_timeout_ms", 120_000, 0, Integer.MAX_VALUE, problems);
    long query = PgOptions.integer(o, "query_timeout_ms", 0, 0, Integer.MAX_VALUE, problems);
    long idleTx = PgOptions.integer(o, "idle_transaction_timeout_ms", 0, 0, Integer.MAX_VALUE, problems);
    return new PgListenerOptions(authMethod, tls, ignore, perUser, wait, query, idleTx);
  }

  static PgListenerOptions of(ListenerConfig listener) {
    return read(listener, new ArrayList<>());
  }
}

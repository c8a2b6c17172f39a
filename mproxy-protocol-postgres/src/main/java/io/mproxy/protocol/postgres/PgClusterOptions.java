package io.mproxy.protocol.postgres;

import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.tls.BackendTls;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PostgreSQL settings of a cluster (documented in docs/postgres.md):
 * {@code database} (of the hot default pool; default: the credentials' user name),
 * {@code tls} (see {@link BackendTls}), {@code server_reset_query} (run when a session-mode
 * client leaves; default {@code DISCARD ALL}; empty disables), {@code max_prepared_statements}
 * (per backend connection, in transaction mode; default 200), and {@code auth_query} (looks up
 * client users' password hashes on the backend: one {@code $1} parameter, the user name; returns
 * the user name and the SCRAM verifier or md5 hash).
 */
record PgClusterOptions(String database, BackendTls tls, String serverResetQuery,
    int maxPreparedStatements, String authQuery) {

  static final Set<String> KEYS = Set.of("database", "tls", "server_reset_query",
      "max_prepared_statements", "auth_query");

  static PgClusterOptions read(ClusterConfig cluster, List<String> problems) {
    Map<String, Object> o = cluster.options();
    String user = cluster.credentials() == null ? null : cluster.credentials().user();
    String database = PgOptions.string(o, "database", user == null ? "postgres" : user, problems);
    BackendTls tls = BackendTls.parse(o.get("tls"), problems);
    String reset = PgOptions.string(o, "server_reset_query", "DISCARD ALL", problems);
    int maxPrepared = PgOptions.integer(o, "max_prepared_statements", 200, 1, 100_000, problems);
    String authQuery = PgOptions.string(o, "auth_query", null, problems);
    if (authQuery != null && !authQuery.contains("$1")) {
      problems.add("auth_query: must take the user name as parameter $1");
    }
    if (user == null || user.isEmpty()) {
      problems.add("credentials.user: required for postgres clusters (the role mproxy logs in as)");
    }
    return new PgClusterOptions(database, tls, reset, maxPrepared, authQuery);
  }

  static PgClusterOptions of(ClusterConfig cluster) {
    return read(cluster, new ArrayList<>());
  }
}

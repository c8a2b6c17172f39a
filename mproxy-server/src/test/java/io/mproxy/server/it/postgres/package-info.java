/**
 * Integration tests of mproxy's PostgreSQL support against a real PostgreSQL (started per test
 * class on a free loopback port by {@link io.mproxy.testkit.PostgresServer}), through real
 * clients: pgjdbc, the {@code psql} and {@code pgbench} CLIs, and raw protocol sockets
 * ({@link io.mproxy.server.it.postgres.PgWire}) where the exact bytes matter.
 * {@link io.mproxy.server.it.postgres.PgConfigText} writes the proxy's YAML and
 * {@link io.mproxy.server.it.ProxyFixture} runs the daemon.
 *
 * <p>Run just these with
 * {@code ./mvnw -B -pl mproxy-server -am verify -Dtest='io.mproxy.server.it.postgres.**' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
package io.mproxy.server.it.postgres;

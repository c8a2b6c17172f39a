/**
 * Integration tests of the whole daemon against a real {@code redis-server} (started per test
 * class on a free loopback port by {@link io.mproxy.testkit.RedisServer}), through real clients:
 * Lettuce, {@code redis-cli}, and raw RESP sockets ({@link io.mproxy.server.it.RespConnection})
 * where exact bytes matter. {@link io.mproxy.server.it.ProxyFixture} writes the config file,
 * starts {@link io.mproxy.server.Daemon} and talks to its admin API.
 *
 * <p>Run just these with
 * {@code ./mvnw -B -pl mproxy-server -am verify -Dtest='io.mproxy.server.it.**' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
package io.mproxy.server.it;

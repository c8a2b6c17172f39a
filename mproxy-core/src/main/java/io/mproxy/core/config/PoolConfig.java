package io.mproxy.core.config;

/**
 * Backend connection pool, per backend.
 *
 * @param mode protocol-specific pooling mode (postgres: session|transaction; redis: multiplex)
 * @param minIdle connections kept open and ready (hot) even when idle
 * @param maxSize hard cap of open connections to one backend
 * @param maxOpensPerSec cap on new connections per second per backend (no connection swarms)
 * @param idleTimeoutMs connections above min_idle idle this long are closed
 * @param connectTimeoutMs TCP connect plus protocol handshake
 * @param acquireTimeoutMs how long a request may wait for a connection before it is refused
 */
public record PoolConfig(
    String mode,
    int minIdle,
    int maxSize,
    int maxOpensPerSec,
    long idleTimeoutMs,
    long connectTimeoutMs,
    long acquireTimeoutMs) {

  public static final PoolConfig DEFAULT =
      new PoolConfig("default", 1, 8, 50, 60_000, 5_000, 5_000);
}

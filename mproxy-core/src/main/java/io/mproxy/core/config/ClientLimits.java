package io.mproxy.core.config;

/**
 * What one listener grants a client before it has logged in: how fast new connections are
 * accepted, how long the protocol's login may take, and how many failed logins one source
 * address may make before it is refused for a while. These bound what an unauthenticated
 * client (a connection storm, a slowloris, a password guesser) can hold or try.
 *
 * @param maxAcceptsPerSec new connections accepted per second (burst: one second's worth); 0 = no limit
 * @param handshakeTimeoutMs a client that has not completed the protocol's login within this is closed
 * @param authMaxFailures failed logins from one address within {@code authFailureWindowMs} that block it
 * @param authFailureWindowMs the window failures are counted in
 * @param authBlockMs how long a blocked address is refused
 */
public record ClientLimits(
    int maxAcceptsPerSec,
    long handshakeTimeoutMs,
    int authMaxFailures,
    long authFailureWindowMs,
    long authBlockMs) {

  public static final int DEFAULT_MAX_ACCEPTS_PER_SEC = 0;
  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
  public static final int DEFAULT_AUTH_MAX_FAILURES = 10;
  public static final long DEFAULT_AUTH_FAILURE_WINDOW_MS = 60_000;
  public static final long DEFAULT_AUTH_BLOCK_MS = 60_000;

  public static final ClientLimits DEFAULTS = new ClientLimits(DEFAULT_MAX_ACCEPTS_PER_SEC,
      DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_AUTH_MAX_FAILURES, DEFAULT_AUTH_FAILURE_WINDOW_MS,
      DEFAULT_AUTH_BLOCK_MS);

  public ClientLimits {
    if (maxAcceptsPerSec < 0 || handshakeTimeoutMs <= 0 || authMaxFailures < 1
        || authFailureWindowMs <= 0 || authBlockMs <= 0) {
      throw new IllegalArgumentException("client limits out of range: " + maxAcceptsPerSec + ", "
          + handshakeTimeoutMs + ", " + authMaxFailures + ", " + authFailureWindowMs + ", " + authBlockMs);
    }
  }
}

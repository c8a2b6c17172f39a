package io.mproxy.core.config;

/**
 * Process-wide settings under the {@code server:} key.
 *
 * @param shutdownGraceMs how long SIGTERM waits for in-flight requests before closing (restart to change)
 * @param ioThreads Netty event loops; 0 = one per core (restart to change)
 * @param ruTickMs how often in-flight latency is charged to groups (restart to change)
 * @param watchConfig reload when the config file changes on disk
 */
public record ServerSettings(long shutdownGraceMs, int ioThreads, long ruTickMs, boolean watchConfig) {

  public static final ServerSettings DEFAULT = new ServerSettings(10_000, 0, 100, true);
}

package io.mproxy.core.config;

/**
 * Process-wide settings under the {@code server:} key.
 *
 * @param shutdownGraceMs how long SIGTERM waits for in-flight requests before closing (restart to change)
 * @param ioThreads Netty event loops; 0 = one per core (restart to change)
 * @param ruTickMs how often in-flight latency is charged to groups (restart to change)
 * @param watchConfig reload when the config file changes on disk
 * @param transport the Netty I/O transport as written: auto, epoll, io_uring or nio (the daemon
 *     validates and resolves it; restart to change)
 */
public record ServerSettings(long shutdownGraceMs, int ioThreads, long ruTickMs, boolean watchConfig,
    String transport) {

  /** The {@code transport} when none is given: the daemon picks epoll when it loads, else NIO. */
  public static final String AUTO_TRANSPORT = "auto";

  public static final ServerSettings DEFAULT = new ServerSettings(10_000, 0, 100, true, AUTO_TRANSPORT);

  public ServerSettings {
    java.util.Objects.requireNonNull(transport, "transport");
  }

  /** Settings with the default ({@code auto}) transport. */
  public ServerSettings(long shutdownGraceMs, int ioThreads, long ruTickMs, boolean watchConfig) {
    this(shutdownGraceMs, ioThreads, ruTickMs, watchConfig, AUTO_TRANSPORT);
  }
}

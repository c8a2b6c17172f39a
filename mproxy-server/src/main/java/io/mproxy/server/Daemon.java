package io.mproxy.server;

import java.nio.file.Path;

/** Runs the proxy until SIGTERM. (Being written; the CLI calls {@link #run(Path)}.) */
public final class Daemon {

  private Daemon() {
  }

  /** Starts the daemon on the config file and blocks until it has shut down; returns the exit code. */
  public static int run(Path config) {
    throw new UnsupportedOperationException("daemon not yet wired");
  }
}

package io.mproxy.server;

import io.mproxy.server.cli.Cli;
import io.netty.util.ResourceLeakDetector;
import java.util.Properties;

/** The {@code mproxy} executable (the shaded jar's main class); see {@link Cli} for the commands. */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    ResourceLeakDetector.Level leaks = leakDetection(System.getProperties());
    if (leaks != null) {
      ResourceLeakDetector.setLevel(leaks);
    }
    System.exit(execute(args));
  }

  /**
   * The daemon's leak-detection level when the operator set none: off. Netty's default
   * ({@code simple}) records a stack trace for one buffer in 128, which cost about 1 % of the
   * event loops' CPU and 30–40 bytes per request in the benchmarks (docs/performance.md). The
   * test suite runs at {@code paranoid}; an operator chasing a suspected leak starts the daemon
   * with {@code -Dio.netty.leakDetection.level=simple} (or advanced/paranoid). Null: leave it as set.
   */
  static ResourceLeakDetector.Level leakDetection(Properties properties) {
    if (properties.getProperty("io.netty.leakDetection.level") != null
        || properties.getProperty("io.netty.leakDetectionLevel") != null) {
      return null;
    }
    return ResourceLeakDetector.Level.DISABLED;
  }

  /** Runs one command line with the installed protocol adapters; returns the exit code. */
  public static int execute(String... args) {
    return Cli.commandLine(Cli::installedAdapters, Daemon::run).execute(args);
  }
}

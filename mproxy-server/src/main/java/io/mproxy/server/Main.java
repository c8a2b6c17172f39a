package io.mproxy.server;

import io.mproxy.server.cli.Cli;

/** The {@code mproxy} executable (the shaded jar's main class); see {@link Cli} for the commands. */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs one command line with the installed protocol adapters; returns the exit code. */
  public static int execute(String... args) {
    return Cli.commandLine(Cli::installedAdapters, Daemon::run).execute(args);
  }
}

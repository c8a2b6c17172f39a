package io.mproxy.server.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mproxy run --config FILE}: the daemon, until SIGTERM has drained it. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Runs the proxy until SIGTERM; reloads the config when the file changes.")
final class RunCommand implements Callable<Integer> {

  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "The YAML config file.")
  private Path config;

  private final ToIntFunction<Path> daemon;

  RunCommand(ToIntFunction<Path> daemon) {
    this.daemon = daemon;
  }

  @Override
  public Integer call() {
    return daemon.applyAsInt(config);
  }
}

package io.mproxy.server.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mproxy}: without a command it runs the daemon, as {@code mproxy run} does. */
@Command(name = "mproxy", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    subcommands = HelpCommand.class,
    description = "A database proxy that meters, shares and sheds load per tenant.",
    footer = "%nWithout a command, runs the daemon: mproxy --config FILE")
final class RootCommand implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "The YAML config file (for run).")
  private Path config;

  private final ToIntFunction<Path> daemon;

  RootCommand(ToIntFunction<Path> daemon) {
    this.daemon = daemon;
  }

  @Override
  public Integer call() {
    if (config == null) {
      throw new ParameterException(spec.commandLine(),
          "Missing required option: '--config=FILE' (or name a command, see --help)");
    }
    return daemon.applyAsInt(config);
  }
}

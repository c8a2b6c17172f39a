package io.mproxy.server.cli;

import io.mproxy.core.spi.ProtocolAdapter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import picocli.CommandLine;

/**
 * Builds the {@code mproxy} command line: {@code run} (the default), {@code check},
 * {@code demo}, {@code simulate}, {@code version} and {@code help}. The protocol adapters and
 * the daemon are passed in, so tests can drive every command without a network or a service
 * registration.
 */
public final class Cli {

  private Cli() {
  }

  /**
   * @param adapters the protocols {@code check} validates against (asked only when it runs)
   * @param daemon runs the proxy on a config file and returns the process exit code
   */
  public static CommandLine commandLine(
      Supplier<? extends Collection<? extends ProtocolAdapter>> adapters,
      ToIntFunction<Path> daemon) {
    CommandLine cli = new CommandLine(new RootCommand(daemon))
        .addSubcommand("run", new RunCommand(daemon))
        .addSubcommand("check", new CheckCommand(adapters))
        .addSubcommand("demo", new DemoCommand())
        .addSubcommand("simulate", new SimulateCommand())
        .addSubcommand("version", new VersionCommand());
    cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
    cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("mproxy " + commandLine.getCommandName() + ": " + e);
      e.printStackTrace(commandLine.getErr());
      commandLine.getErr().flush();
      return commandLine.getCommandSpec().exitCodeOnExecutionException();
    });
    return cli;
  }

  /** The protocol adapters registered in {@code META-INF/services} on the class path. */
  public static List<ProtocolAdapter> installedAdapters() {
    return ServiceLoader.load(ProtocolAdapter.class).stream()
        .map(ServiceLoader.Provider::get)
        .toList();
  }
}

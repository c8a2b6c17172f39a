package io.mproxy.server.cli;

import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.config.ConfigLoader;
import io.mproxy.server.config.ConfigProblem;
import io.mproxy.server.config.LoadResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Collection;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mproxy check --config FILE}: validates exactly as a (re)load would, printing each problem
 * as {@code FILE:LINE:COL: message} on stderr (exit 1), or {@code FILE: ok} (exit 0).
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Validates a config file; prints each problem as FILE:LINE:COL: message.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the file is valid", "1:the file has problems", "2:bad command line"})
final class CheckCommand implements Callable<Integer> {

  static final int VALID = 0;
  static final int PROBLEMS = 1;

  @Spec
  private CommandSpec spec;

  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "The YAML config file to check.")
  private Path config;

  private final Supplier<? extends Collection<? extends ProtocolAdapter>> adapters;

  CheckCommand(Supplier<? extends Collection<? extends ProtocolAdapter>> adapters) {
    this.adapters = adapters;
  }

  @Override
  public Integer call() {
    LoadResult result = new ConfigLoader(adapters.get()).load(config);
    if (result.isValid()) {
      PrintWriter out = spec.commandLine().getOut();
      out.println(config + ": ok");
      out.flush();
      return VALID;
    }
    PrintWriter err = spec.commandLine().getErr();
    for (ConfigProblem problem : result.problems()) {
      err.println(problem);
    }
    err.flush();
    return PROBLEMS;
  }
}

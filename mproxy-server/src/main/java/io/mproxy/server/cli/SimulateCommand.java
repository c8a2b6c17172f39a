package io.mproxy.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mproxy simulate SCENARIO --seed N [--list]}: a placeholder until the simulator lands. */
@Command(name = "simulate", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Runs a deterministic simulation scenario of the core.")
final class SimulateCommand implements Callable<Integer> {

  static final int NOT_IMPLEMENTED = 2;
  static final String MESSAGE = "mproxy simulate: not yet implemented";

  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "SCENARIO",
      description = "The scenario to run (see --list).")
  private String scenario;

  @Option(names = "--seed", paramLabel = "N", description = "Seed of the scenario's randomness.")
  private Long seed;

  @Option(names = "--list", description = "Names the scenarios.")
  private boolean list;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println(MESSAGE);
    spec.commandLine().getErr().flush();
    return NOT_IMPLEMENTED;
  }
}

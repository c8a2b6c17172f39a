package io.mproxy.server.cli;

import io.mproxy.sim.Simulator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mproxy simulate SCENARIO --seed N} runs one deterministic simulation scenario of the core
 * (mproxy-sim) and prints its per-tenant table, byte for byte the same for the same seed;
 * {@code --list} names the scenarios. Exit 0 when every asserted bound and invariant held, 1 when
 * one broke, 2 for an unknown scenario.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Runs a deterministic simulation scenario of the core.")
final class SimulateCommand implements Callable<Integer> {

  static final long DEFAULT_SEED = 1;

  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "SCENARIO",
      description = "The scenario to run (see --list).")
  private String scenario;

  @Option(names = "--seed", paramLabel = "N", description = "Seed of the scenario's randomness (default: 1).")
  private Long seed;

  @Option(names = "--list", description = "Names the scenarios.")
  private boolean list;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    if (list) {
      Simulator.list(out);
      return 0;
    }
    if (scenario == null) {
      throw new ParameterException(spec.commandLine(), "Missing SCENARIO (see --list)");
    }
    return Simulator.run(scenario, seed == null ? DEFAULT_SEED : seed, out, err);
  }
}

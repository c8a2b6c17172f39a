package io.mproxy.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mproxy demo}: a placeholder until the noisy-neighbour demo lands. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Runs the proxy in front of an embedded backend with a noisy-neighbour workload.")
final class DemoCommand implements Callable<Integer> {

  static final String MESSAGE = "mproxy demo: coming in a later release \u2014 see README";

  @Spec
  private CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(MESSAGE);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

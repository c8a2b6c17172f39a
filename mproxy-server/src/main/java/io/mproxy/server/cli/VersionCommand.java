package io.mproxy.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mproxy version}: prints {@code mproxy <version>}. */
@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Prints the version.")
final class VersionCommand implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(MproxyVersion.line());
    spec.commandLine().getOut().flush();
    return 0;
  }
}

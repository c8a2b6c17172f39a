package io.mproxy.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every config file the repository ships ({@code config/*.yaml} and the packaging examples'
 * mproxy configs) passes {@code mproxy check} with the protocol adapters actually on the class
 * path, so a README or runbook example never fails to start.
 */
class ShippedConfigsCheckTest {

  /** Surefire runs in the module directory; the shipped files are at the repository root. */
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void everyShippedConfigPassesCheck() throws IOException {
    List<Path> files = shippedConfigs();
    assertTrue(files.stream().anyMatch(f -> f.startsWith(ROOT.resolve("config"))),
        "no config/*.yaml found under " + ROOT);
    assertTrue(files.contains(ROOT.resolve("packaging/kubernetes/mproxy.yaml")), "packaging example missing: " + files);
    for (Path file : files) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cli = Cli.commandLine(Cli::installedAdapters, config -> {
        throw new AssertionError("check must not start the daemon");
      });
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
      int code = cli.execute("check", "--config", file.toString());
      assertEquals(0, code, file + " failed check:\n" + err);
      assertEquals(file + ": ok", out.toString().strip(), file.toString());
      assertFalse(err.toString().contains(":"), err.toString());
    }
  }

  private static List<Path> shippedConfigs() throws IOException {
    try (Stream<Path> config = Files.list(ROOT.resolve("config"));
        Stream<Path> packaging = Files.walk(ROOT.resolve("packaging"))) {
      return Stream.concat(
              config.filter(p -> p.getFileName().toString().endsWith(".yaml")),
              packaging.filter(p -> p.getFileName().toString().equals("mproxy.yaml")))
          .sorted()
          .toList();
    }
  }
}

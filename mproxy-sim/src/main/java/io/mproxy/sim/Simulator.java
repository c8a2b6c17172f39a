package io.mproxy.sim;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The entry point {@code mproxy simulate} calls: lists the scenarios or runs one for a seed and
 * prints its report. Exit codes: 0 every check and invariant held, 1 one failed, 2 unknown scenario.
 */
public final class Simulator {

  public static final int PASSED = 0;
  public static final int FAILED = 1;
  public static final int UNKNOWN = 2;

  private Simulator() {
  }

  /** Prints one line per scenario: its name and what it does. */
  public static void list(PrintWriter out) {
    for (Scenario s : Scenarios.all()) {
      out.println(String.format(Locale.ROOT, "%-18s %s", s.name(), s.summary()));
    }
    out.flush();
  }

  /** Runs {@code name} for {@code seed}, prints the report to {@code out}; errors go to {@code err}. */
  public static int run(String name, long seed, PrintWriter out, PrintWriter err) {
    var scenario = Scenarios.byName(name);
    if (scenario.isEmpty()) {
      err.println("unknown scenario '" + name + "' (see --list)");
      err.flush();
      return UNKNOWN;
    }
    ScenarioRun run = scenario.get().run(seed);
    out.print(run.render());
    out.flush();
    return run.passed() ? PASSED : FAILED;
  }

  /** For running from a build without the CLI: {@code Simulator SCENARIO [SEED]}. */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    if (args.length == 0) {
      list(out);
      return;
    }
    long seed = args.length > 1 ? Long.parseLong(args[1]) : 1;
    long t0 = System.nanoTime();
    int rc = run(args[0], seed, out, err);
    err.printf(Locale.ROOT, "(wall time %.2f s)%n", (System.nanoTime() - t0) / 1e9);
    System.exit(rc);
  }
}

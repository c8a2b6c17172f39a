package io.mproxy.sim;

import java.util.List;

/**
 * A named, seeded experiment: builds its run (or runs) from a seed and judges the result against
 * asserted bounds. The bounds are the regression guard: the scenario tests fail when one breaks.
 */
public interface Scenario {

  String name();

  /** One line: what the scenario does. */
  String summary();

  /** The main run's configuration for {@code seed}. */
  SimConfig config(long seed);

  /** The bounds judged on the main run (and on any extra runs the scenario makes). */
  List<Check> checks(SimResult result, long seed);

  /** Extra report lines (time series, comparisons); none by default. */
  default List<String> notes(SimResult result, long seed) {
    return List.of();
  }

  /** Runs the scenario for {@code seed}: the main run, then its checks. */
  default ScenarioRun run(long seed) {
    SimResult r = new Simulation(config(seed)).run();
    return new ScenarioRun(this, seed, r, checks(r, seed), notes(r, seed));
  }
}

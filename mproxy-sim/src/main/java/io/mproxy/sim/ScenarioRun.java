package io.mproxy.sim;

import java.util.List;

/** One scenario run: the result, its checks, extra notes; {@link Report} renders it. */
public record ScenarioRun(Scenario scenario, long seed, SimResult result, List<Check> checks, List<String> notes) {

  public ScenarioRun {
    checks = List.copyOf(checks);
    notes = List.copyOf(notes);
  }

  public boolean passed() {
    return result.invariants().violations() == 0 && checks.stream().allMatch(c -> c.passed() || !c.asserted());
  }

  public String render() {
    return Report.render(this);
  }
}

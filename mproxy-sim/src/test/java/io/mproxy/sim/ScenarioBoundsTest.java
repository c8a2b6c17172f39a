package io.mproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario's asserted bounds hold for two seeds, and no invariant breaks: the regression
 * guard for admission, balancing, pooling and fleet-sharing changes.
 */
class ScenarioBoundsTest {

  static List<String> names() {
    return Scenarios.all().stream().map(Scenario::name).toList();
  }

  @ParameterizedTest
  @MethodSource("names")
  void boundsHold(String name) {
    Scenario s = Scenarios.byName(name).orElseThrow();
    for (long seed : new long[] {1, 42}) {
      ScenarioRun run = s.run(seed);
      String report = run.render();
      assertFalse(run.checks().isEmpty(), report);
      for (Check c : run.checks()) {
        assertTrue(c.passed() || !c.asserted(), name + " seed " + seed + ": " + c.name() + " " + c.detail()
            + "\n" + report);
      }
      assertEquals(0, run.result().invariants().violations(), report);
      assertTrue(run.passed(), report);
    }
  }
}

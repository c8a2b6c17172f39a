package io.mproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One seed, one history: the event log hash and the printed report repeat byte for byte. */
class DeterminismTest {

  @ParameterizedTest
  @ValueSource(strings = {"retry-storm", "partition", "backend-crash"})
  void aSeedReplaysTheSameRunAndReport(String name) {
    Scenario s = Scenarios.byName(name).orElseThrow();
    ScenarioRun first = s.run(7);
    ScenarioRun second = s.run(7);
    assertEquals(first.result().logHash(), second.result().logHash());
    assertEquals(first.result().logCount(), second.result().logCount());
    assertTrue(first.result().logCount() > 10_000, "the log saw the run: " + first.result().logCount());
    assertEquals(first.render(), second.render());
  }

  @Test
  void anotherSeedIsAnotherRun() {
    Scenario s = Scenarios.byName("retry-storm").orElseThrow();
    assertNotEquals(s.run(7).result().logHash(), s.run(8).result().logHash());
  }

  @Test
  void swarmRunsWithFaultsArmedReplayToo() {
    for (long seed = 1; seed <= 5; seed++) {
      SimResult a = new Simulation(Swarm.config(seed)).run();
      SimResult b = new Simulation(Swarm.config(seed)).run();
      assertEquals(a.logHash(), b.logHash(), "seed " + seed);
      assertEquals(a.events(), b.events(), "seed " + seed);
    }
  }
}

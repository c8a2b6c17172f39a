package io.mproxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.ShedReason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Many seeds, each a random fleet with random faults: every invariant must hold in every run.
 * {@code -Dsim.swarm.seeds=N} runs more (the long mode); the default is 200.
 */
class SwarmTest {

  @Test
  void invariantsHoldForEverySeed() {
    int seeds = Integer.getInteger("sim.swarm.seeds", 200);
    List<String> broken = new ArrayList<>();
    long crashes = 0;
    long shedRu = 0;
    long shedQueue = 0;
    long shedCodel = 0;
    long timeouts = 0;
    long retries = 0;
    long gossipLost = 0;
    long attempts = 0;
    for (long seed = 1; seed <= seeds; seed++) {
      SimResult r = new Simulation(Swarm.config(seed)).run();
      if (r.invariants().violations() > 0) {
        broken.add("seed " + seed + ": " + r.invariants().firstViolations());
      }
      for (SimResult.BackendStats b : r.backends()) {
        crashes += b.crashes();
      }
      for (TenantStats t : r.tenants()) {
        shedRu += t.shed(ShedReason.RU_LIMIT);
        shedQueue += t.shed(ShedReason.QUEUE_FULL);
        shedCodel += t.shed(ShedReason.CODEL);
        timeouts += t.timeouts();
        retries += t.retries();
        attempts += t.attempts();
      }
      gossipLost += r.gossipLost();
    }
    assertEquals(List.of(), broken, "invariants broken");
    // the swarm is only worth something if it reached the hard paths
    assertTrue(attempts > seeds * 100L, "attempts " + attempts);
    assertTrue(crashes > 0, "no backend crashed");
    assertTrue(shedRu > 0 && shedQueue > 0, "shed ru_limit " + shedRu + ", queue_full " + shedQueue);
    assertTrue(shedCodel > 0, "no request shed by the priority gate's CoDel");
    assertTrue(timeouts > 0, "no proxy timeout");
    assertTrue(retries > 0, "no retry");
    assertTrue(gossipLost > 0, "no gossip message lost");
  }
}

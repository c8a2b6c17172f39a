package io.mproxy.sim;

import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.fault.FaultPoint;
import io.mproxy.core.fault.Faults;
import io.mproxy.sim.SimConfig.BackendSpec;
import io.mproxy.sim.SimConfig.Closed;
import io.mproxy.sim.SimConfig.GossipSpec;
import io.mproxy.sim.SimConfig.GroupSpec;
import io.mproxy.sim.SimConfig.Open;
import io.mproxy.sim.SimConfig.Partition;
import io.mproxy.sim.SimConfig.ProxySpec;
import io.mproxy.sim.SimConfig.RetryPolicy;
import io.mproxy.sim.SimConfig.TenantSpec;
import io.mproxy.sim.SimConfig.Window;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Random runs for the swarm test: every seed draws a small fleet (1–3 nodes, 1–3 backends,
 * 1–6 tenants), random limits, queue or reject groups, clients, retry policies, backend spikes,
 * crashes and hangs, gossip loss and partitions, and arms a random subset of the fault points.
 * Only the invariants are judged: no outcome bound could hold for every draw.
 */
public final class Swarm {

  private Swarm() {
  }

  public static SimConfig config(long seed) {
    SimRandom r = new SimRandom(seed).derive("swarm");
    long duration = 3_000;
    int nodes = 1 + r.nextInt(3);
    List<BackendSpec> backends = new ArrayList<>();
    int nb = 1 + r.nextInt(3);
    for (int b = 0; b < nb; b++) {
      BackendSpec s = BackendSpec.steady("db-" + (b + 1), 1 + r.nextInt(16), r.uniform(0.5, 10));
      if (r.chance(0.4)) {
        long at = r.nextInt((int) duration);
        s = s.withSpikes(List.of(new Window(at, at + 200 + r.nextInt(1_500), r.uniform(2, 20))));
      }
      if (r.chance(0.3)) {
        long at = r.nextInt((int) duration);
        s = s.withCrashes(List.of(new Window(at, at + 100 + r.nextInt(2_000), 0)));
      } else if (r.chance(0.2)) {
        long at = r.nextInt((int) duration);
        long end = r.chance(0.5) ? at + 100 + r.nextInt(2_000) : 1_000_000;
        s = s.withHangs(List.of(new Window(at, end, 0)));
      }
      backends.add(s);
    }
    List<GroupSpec> groups = new ArrayList<>();
    List<TenantSpec> tenants = new ArrayList<>();
    int nt = 1 + r.nextInt(6);
    for (int t = 0; t < nt; t++) {
      String name = "t" + t;
      double rate = r.uniform(50, 5_000);
      double burst = r.uniform(5, 2 * rate);
      ResourceGroupConfig g = r.chance(0.5)
          ? new ResourceGroupConfig(name, rate, burst, Priority.NORMAL, ResourceGroupConfig.OnExhausted.REJECT, 0, 0,
              r.uniform(0, burst))
          : new ResourceGroupConfig(name, rate, burst, Priority.NORMAL, ResourceGroupConfig.OnExhausted.QUEUE,
              r.nextInt(500), 1 + r.nextInt(100), r.uniform(0, burst));
      groups.add(new GroupSpec(g, r.chance(0.7)));
      var arrival = r.chance(0.6) ? new Open(r.uniform(10, 800)) : new Closed(1 + r.nextInt(40), r.uniform(1, 100));
      RetryPolicy retry = switch (r.nextInt(3)) {
        case 0 -> RetryPolicy.NONE;
        case 1 -> RetryPolicy.immediate(1 + r.nextInt(5));
        default -> RetryPolicy.backoff(1 + r.nextInt(5), 1 + r.nextInt(50), 50 + r.nextInt(450));
      };
      long timeout = r.chance(0.5) ? 0 : 20 + r.nextInt(480);
      TenantSpec spec = TenantSpec.open(name, r.nextInt(nodes), name, 0).withArrival(arrival)
          .withRetry(retry, timeout).withCost(r.uniform(0.5, 3));
      tenants.add(spec);
    }
    PoolConfig pool = new PoolConfig("transaction", r.nextInt(3), 1 + r.nextInt(16), 1 + r.nextInt(100), 60_000,
        50 + r.nextInt(950), 50 + r.nextInt(950));
    HealthConfig health = new HealthConfig(100 + r.nextInt(900), 50 + r.nextInt(450), 50 + r.nextInt(450),
        500 + r.nextInt(2_000));
    BalancerConfig.Score score = BalancerConfig.Score.values()[r.nextInt(BalancerConfig.Score.values().length)];
    ProxySpec proxy = new ProxySpec(pool, health, score, RuWeights.DEFAULT, 10 + r.nextInt(190),
        50 + r.nextInt(950), 1 + r.nextInt(256));
    SimRandom q = new SimRandom(seed).derive("swarm.codel");
    if (q.chance(0.5)) {
      // the priority gate, drawn from its own stream so the draws above stay as they were
      CodelConfig gate = new CodelConfig(1 + q.nextInt(20), 20 + q.nextInt(300), 1 + q.nextInt(32),
          q.nextInt(2_000), 50 + q.nextInt(2_000));
      // slots reserved for HIGH in half of the gated seeds, from a stream of their own as well
      SimRandom rq = new SimRandom(seed).derive("swarm.reserve_high");
      if (gate.maxInflight() > 1 && rq.chance(0.5)) {
        gate = gate.withReserveHigh(rq.nextInt(gate.maxInflight()));
      }
      proxy = proxy.withCodel(gate);
    }
    List<Partition> partitions = new ArrayList<>();
    if (nodes > 1 && r.chance(0.5)) {
      long at = r.nextInt((int) duration);
      partitions.add(new Partition(at, at + r.nextInt(2_000), Set.of(r.nextInt(nodes))));
    }
    GossipSpec gossip = new GossipSpec(50 + r.nextInt(450), 200 + r.nextInt(1_800), nodes, r.uniform(0.1, 20),
        r.chance(0.5) ? r.uniform(0, 0.5) : 0, partitions);
    Map<FaultPoint, Double> faults = new LinkedHashMap<>();
    for (FaultPoint p : Faults.all()) {
      if (r.chance(0.5)) {
        faults.put(p, r.uniform(0.001, 0.2));
      }
    }
    return new SimConfig("swarm", seed, duration, 8_000, 100, nodes, backends, groups, tenants, proxy, gossip,
        faults);
  }
}

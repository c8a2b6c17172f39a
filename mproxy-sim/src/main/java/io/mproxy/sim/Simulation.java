package io.mproxy.sim;

import io.mproxy.core.fault.FaultInjection;
import io.mproxy.sim.SimConfig.TenantSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds one run from a {@link SimConfig} and runs it to the end on virtual time: backends, proxy
 * nodes (production core inside), the gossip network and the clients, all drawing from one
 * seeded {@link SimRandom}, with the config's fault points armed for the run. Single-threaded;
 * one run at a time per JVM (fault points are global).
 */
public final class Simulation {

  private final SimConfig config;
  private final int traceSize;

  public Simulation(SimConfig config) {
    this(config, 0);
  }

  /** @param traceSize how many recent events to keep as text in the result (debugging) */
  public Simulation(SimConfig config, int traceSize) {
    this.config = config;
    this.traceSize = traceSize;
  }

  public SimResult run() {
    SimRandom root = new SimRandom(config.seed());
    VirtualTime time = new VirtualTime();
    EventLog log = new EventLog(traceSize);
    Invariants invariants = new Invariants();
    try (FaultInjection faults = FaultInjection.arm(config.faults(), root.derive("faults"))) {
      List<SimBackend> servers = new ArrayList<>();
      for (int b = 0; b < config.backends().size(); b++) {
        servers.add(new SimBackend(b, config.backends().get(b), config.tenants().size(), time,
            root.derive("backend/" + b), log));
      }
      List<ProxyNode> nodes = new ArrayList<>();
      for (int n = 0; n < config.nodes(); n++) {
        nodes.add(new ProxyNode(n, config, time, root.derive("node/" + n), log, invariants, servers));
      }
      GossipNetwork network = new GossipNetwork(config.gossip(), time, root.derive("gossip"), log);
      for (ProxyNode n : nodes) {
        n.start(network, nodes);
      }
      List<TenantStats> stats = new ArrayList<>();
      long[] ids = new long[2];
      for (int t = 0; t < config.tenants().size(); t++) {
        TenantSpec spec = config.tenants().get(t);
        TenantStats s = new TenantStats(spec.name(), config.sampleMs(), config.endMs());
        stats.add(s);
        new SimClient(t, spec, nodes.get(spec.node()), time, root.derive("client/" + spec.name()), log, s,
            config, ids).start();
      }
      time.runUntil(TimeUnit.MILLISECONDS.toNanos(config.endMs()));
      return SimResult.collect(config, time, log, invariants, servers, nodes, stats, network, ids[1]);
    }
  }
}

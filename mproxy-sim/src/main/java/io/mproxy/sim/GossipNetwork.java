package io.mproxy.sim;

import io.mproxy.core.fault.Faults;
import io.mproxy.sim.SimConfig.GossipSpec;
import io.mproxy.sim.SimConfig.Partition;

/**
 * The network between proxy nodes: each message is delayed (0.2 ms plus an exponential draw),
 * may be lost, is cut by an active partition, and may be dropped or delayed further by the
 * {@code gossip.*} fault points. Delivery runs as an event on the virtual clock.
 */
final class GossipNetwork {

  private final GossipSpec spec;
  private final VirtualTime time;
  private final SimRandom random;
  private final EventLog log;
  private long sent;
  private long delivered;
  private long lost;

  GossipNetwork(GossipSpec spec, VirtualTime time, SimRandom random, EventLog log) {
    this.spec = spec;
    this.time = time;
    this.random = random;
    this.log = log;
  }

  void send(int from, int to, Runnable deliver) {
    sent++;
    long nowMs = time.nanoTime() / 1_000_000L;
    log.record(time.nanoTime(), EventLog.Kind.GOSSIP_SEND, from, to);
    for (Partition p : spec.partitions()) {
      if (p.cuts(nowMs, from, to)) {
        drop(from, to);
        return;
      }
    }
    if (random.chance(spec.loss()) || Faults.GOSSIP_DROPPED.fires()) {
      drop(from, to);
      return;
    }
    double delayMs = 0.2 + random.exponential(spec.delayMs());
    if (Faults.GOSSIP_DELAYED.fires()) {
      delayMs += Faults.GOSSIP_DELAYED.draw() * 2_000;
    }
    time.schedule(() -> {
      delivered++;
      log.record(time.nanoTime(), EventLog.Kind.GOSSIP_DELIVER, from, to);
      deliver.run();
    }, (long) (delayMs * 1e6));
  }

  private void drop(int from, int to) {
    lost++;
    log.record(time.nanoTime(), EventLog.Kind.GOSSIP_LOST, from, to);
  }

  long sent() {
    return sent;
  }

  long delivered() {
    return delivered;
  }

  long lost() {
    return lost;
  }
}

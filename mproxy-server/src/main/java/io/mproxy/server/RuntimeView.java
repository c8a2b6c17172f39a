package io.mproxy.server;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.gossip.FleetShares;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the running proxy for the admin API and metrics. Every call returns the
 * current state (after a reload: the new clusters and groups).
 */
public interface RuntimeView {

  String version();

  /** Bumps by one on every successful reload; 1 at start. */
  long generation();

  /** Nanos on the proxy's clock when the process started (for uptime). */
  long startedNanos();

  List<ListenerView> listeners();

  Collection<Cluster> clusters();

  Gateway gateway();

  /** Fleet members this node knows, itself first (just itself without a {@code cluster:} section). */
  List<String> members();

  /** The fleet's view from this node (peers heard from, each group's share), when in a fleet. */
  default Optional<FleetShares.Snapshot> fleetSnapshot() {
    return Optional.empty();
  }

  /** The I/O transport the event loops run ({@code epoll}, {@code io_uring} or {@code nio}). */
  String transport();

  /** True once every listener is bound. */
  boolean ready();

  /** One listener as shown in status. */
  interface ListenerView {
    String name();

    String protocol();

    String bind();

    String cluster();

    int clientConnections();
  }
}

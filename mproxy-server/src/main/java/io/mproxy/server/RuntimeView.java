package io.mproxy.server;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.cluster.Cluster;
import java.util.Collection;
import java.util.List;

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

  /** Fleet members this node knows (just itself until gossip lands). */
  List<String> members();

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

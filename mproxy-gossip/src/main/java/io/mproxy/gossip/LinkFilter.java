package io.mproxy.gossip;

/**
 * Decides whether a share report may travel from one node to another: the seam through which
 * tests and drills cut gossip between chosen nodes (a partition) without touching sockets.
 * Applied on sending and on receiving; membership (SWIM) traffic is not filtered, so a cut shows
 * up exactly as a peer whose data goes stale.
 */
@FunctionalInterface
public interface LinkFilter {

  /** Lets everything through. */
  LinkFilter OPEN = (from, to) -> true;

  /** True when a report from the member with id {@code from} may reach {@code to}. */
  boolean passes(String from, String to);
}

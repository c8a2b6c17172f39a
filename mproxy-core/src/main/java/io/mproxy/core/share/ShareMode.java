package io.mproxy.core.share;

/** How a node arrived at its share: the status page and metrics show it to operators. */
public enum ShareMode {
  /** Split with the live peers in proportion to demand. */
  SHARED,
  /** No live peer known (start-up, partition, gossip broken): the static fallback share. */
  FALLBACK
}

package io.mproxy.core.share;

/**
 * The outcome for one group on one node.
 *
 * @param ruPerSec the rate this node's bucket should refill at
 * @param mode shared with peers, or the fallback
 * @param liveMembers how many nodes the split counted, this one included
 */
public record Share(double ruPerSec, ShareMode mode, int liveMembers) {
}

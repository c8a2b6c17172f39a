package io.mproxy.core.share;

/**
 * What this node last heard from one peer about one group.
 *
 * @param node the peer's id (for diagnostics only; the computation never compares ids)
 * @param demand the peer's demand EWMA in RU per second (RU asked for, admitted or not)
 * @param share the share the peer said it was enforcing, in RU per second
 * @param heardAtNanos when this node received the report, on this node's clock: peers' clocks are
 *     never compared
 */
public record PeerReport(String node, double demand, double share, long heardAtNanos) {

  /** True when the report is recent enough to count at {@code nowNanos}. */
  public boolean liveAt(long nowNanos, long staleAfterNanos) {
    return nowNanos - heardAtNanos <= staleAfterNanos;
  }

  boolean sane() {
    return Double.isFinite(demand) && demand >= 0 && Double.isFinite(share) && share >= 0;
  }
}

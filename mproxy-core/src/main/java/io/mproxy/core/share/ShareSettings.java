package io.mproxy.core.share;

/**
 * The knobs of the share computation, validated once so that {@link ShareCalculator} never has to
 * guard against nonsense at run time.
 *
 * @param staleAfterNanos a peer heard from longer ago than this no longer counts
 * @param expectedNodes how many nodes the operator runs; sizes the default fallback
 * @param fallbackFraction the fraction of the global limit a node uses when it knows no live peer
 *     (default {@code 1 / expectedNodes}): never zero, never more than the whole limit
 * @param floorFraction the fraction of an equal split every live node keeps whatever its demand,
 *     so an idle node can start serving before its demand has been gossiped
 */
public record ShareSettings(long staleAfterNanos, int expectedNodes, double fallbackFraction,
    double floorFraction) {

  /** The floor used when the operator names none: 5% of an equal split. */
  public static final double DEFAULT_FLOOR_FRACTION = 0.05;

  public ShareSettings {
    if (staleAfterNanos <= 0) {
      throw new IllegalArgumentException("staleAfterNanos: " + staleAfterNanos + " (expected: > 0)");
    }
    if (expectedNodes < 1) {
      throw new IllegalArgumentException("expectedNodes: " + expectedNodes + " (expected: >= 1)");
    }
    if (!(fallbackFraction > 0 && fallbackFraction <= 1)) {
      throw new IllegalArgumentException("fallbackFraction: " + fallbackFraction + " (expected: > 0 and <= 1)");
    }
    if (!(floorFraction >= 0 && floorFraction < 1)) {
      throw new IllegalArgumentException("floorFraction: " + floorFraction + " (expected: >= 0 and < 1)");
    }
  }

  /** Settings with the default fallback ({@code 1 / expectedNodes}) and the default floor. */
  public static ShareSettings of(long staleAfterNanos, int expectedNodes) {
    return new ShareSettings(staleAfterNanos, expectedNodes, 1.0 / expectedNodes, DEFAULT_FLOOR_FRACTION);
  }
}

package io.mproxy.core.config;

/**
 * An RU budget shared by the tenants classified into it.
 *
 * @param ruPerSec refill rate (the group's global limit; a fleet shares it)
 * @param burst bucket capacity
 * @param onExhausted {@code reject} at once with retry-after, or {@code queue} up to maxQueueMs
 * @param maxQueueMs longest a request may wait for tokens in {@code queue} mode
 * @param maxQueued most requests that may wait at once in {@code queue} mode
 * @param maxDebt how far below zero settling may push the bucket (defaults to burst)
 */
public record ResourceGroupConfig(
    String name,
    double ruPerSec,
    double burst,
    Priority priority,
    OnExhausted onExhausted,
    long maxQueueMs,
    int maxQueued,
    double maxDebt) {

  public enum OnExhausted { REJECT, QUEUE }

  public static final String DEFAULT_GROUP = "default";

  /** The group used when the config names none: effectively unlimited, never rejects. */
  public static ResourceGroupConfig unlimitedDefault() {
    return new ResourceGroupConfig(DEFAULT_GROUP, 1e12, 1e12, Priority.NORMAL,
        OnExhausted.REJECT, 0, 0, 1e12);
  }
}

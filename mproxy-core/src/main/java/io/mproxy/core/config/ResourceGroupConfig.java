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
 * @param codel CoDel shedding judged on this group's own requests, or null for none
 * @param mode {@code enforce} refuses; {@code shadow} only counts and logs what it would refuse
 */
public record ResourceGroupConfig(
    String name,
    double ruPerSec,
    double burst,
    Priority priority,
    OnExhausted onExhausted,
    long maxQueueMs,
    int maxQueued,
    double maxDebt,
    CodelConfig codel,
    Mode mode) {

  public enum OnExhausted { REJECT, QUEUE }

  /** Whether the group's limits refuse requests or only count what they would refuse. */
  public enum Mode { ENFORCE, SHADOW }

  public ResourceGroupConfig {
    mode = mode == null ? Mode.ENFORCE : mode;
  }

  /** A group without CoDel, enforcing. */
  public ResourceGroupConfig(String name, double ruPerSec, double burst, Priority priority,
      OnExhausted onExhausted, long maxQueueMs, int maxQueued, double maxDebt) {
    this(name, ruPerSec, burst, priority, onExhausted, maxQueueMs, maxQueued, maxDebt, null, Mode.ENFORCE);
  }

  public static final String DEFAULT_GROUP = "default";

  /** The group used when the config names none: effectively unlimited, never rejects. */
  public static ResourceGroupConfig unlimitedDefault() {
    return new ResourceGroupConfig(DEFAULT_GROUP, 1e12, 1e12, Priority.NORMAL,
        OnExhausted.REJECT, 0, 0, 1e12);
  }
}

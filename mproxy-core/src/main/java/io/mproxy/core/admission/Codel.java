package io.mproxy.core.admission;

import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.Priority;

/**
 * A CoDel controller over admission sojourn (admitted → dispatched), escalating by priority.
 * Classic CoDel drops at a queue's head once sojourn has stayed above target for an interval; a
 * proxy cannot drop what a backend pool already queued, so this one refuses new admissions
 * instead, lowest priority first: level 1 sheds LOW, 2 adds NORMAL, 3 adds HIGH. Each further
 * interval spent above target raises the level by one; each interval spent at or below target
 * (or without any dispatch, as when everything is shed) lowers it by one, so shedding neither
 * flaps on one good sample nor sticks once the queue has drained.
 *
 * <p>Thread-safe (short synchronized sections); time comes from the caller's injected clock.
 */
public final class Codel {

  /** Highest level: every priority is shed. */
  public static final int MAX_LEVEL = 3;

  private final CodelConfig config;
  private final long targetNanos;
  private final long intervalNanos;
  private int level;
  /** When the current run of above-target (or at-or-below-target) samples began. */
  private long runStart;
  private boolean above;
  private boolean started;
  private long lastSample;

  public Codel(CodelConfig config, long nowNanos) {
    this.config = config;
    this.targetNanos = config.targetMs() * 1_000_000L;
    this.intervalNanos = config.intervalMs() * 1_000_000L;
    this.runStart = nowNanos;
    this.lastSample = nowNanos;
  }

  /** Feeds one request's sojourn, observed at {@code nowNanos}. */
  public synchronized void sample(long sojournNanos, long nowNanos) {
    boolean isAbove = sojournNanos > targetNanos;
    lastSample = nowNanos;
    if (!started || isAbove != above) {
      started = true;
      above = isAbove;
      runStart = nowNanos;
      return;
    }
    step(nowNanos);
  }

  /** Periodic check (the gateway tick): an interval without dispatches counts as below target. */
  public synchronized void tick(long nowNanos) {
    if (nowNanos - lastSample >= intervalNanos && above) {
      above = false;
      runStart = lastSample;
    }
    if (started || level > 0) {
      started = true;
      step(nowNanos);
    }
  }

  private void step(long nowNanos) {
    if (nowNanos - runStart < intervalNanos) {
      return;
    }
    runStart = nowNanos;
    level = above ? Math.min(MAX_LEVEL, level + 1) : Math.max(0, level - 1);
  }

  public CodelConfig config() {
    return config;
  }

  /** The retry-after a shed request is given: the soonest the level can fall. */
  public long intervalMs() {
    return config.intervalMs();
  }

  /** Whether a request of priority {@code p} is to be refused now. */
  public synchronized boolean sheds(Priority p) {
    return level >= rank(p);
  }

  /** 0: nothing shed; 1: LOW; 2: LOW and NORMAL; 3: everything. */
  public synchronized int level() {
    return level;
  }

  private static int rank(Priority p) {
    return switch (p) {
      case LOW -> 1;
      case NORMAL -> 2;
      case HIGH -> 3;
    };
  }
}

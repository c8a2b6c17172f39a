package io.mproxy.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The properties every run must keep, whatever the faults: each attempt answered exactly once,
 * each admitted request settled exactly once, queues and pools within their bounds, RU charged
 * never negative, bucket debt never beyond {@code max_debt}. Violations are collected (the first
 * few in full) rather than thrown, so a swarm run reports every seed that broke one.
 */
public final class Invariants {

  private static final int KEEP = 20;
  private final List<String> first = new ArrayList<>();
  private long count;
  long answered;
  long admitted;
  long settled;
  long checks;

  void violated(long nowNanos, String what) {
    count++;
    if (first.size() < KEEP) {
      first.add(String.format(java.util.Locale.ROOT, "t=%.3fs %s", nowNanos / 1e9, what));
    }
  }

  /** Counts one check; true when it held (the caller builds the message only when it did not). */
  boolean holds(boolean ok) {
    checks++;
    return ok;
  }

  void check(boolean ok, long nowNanos, String what) {
    if (!holds(ok)) {
      violated(nowNanos, what);
    }
  }

  public long violations() {
    return count;
  }

  public List<String> firstViolations() {
    return List.copyOf(first);
  }

  public long checks() {
    return checks;
  }
}

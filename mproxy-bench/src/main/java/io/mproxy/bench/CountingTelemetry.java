package io.mproxy.bench;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.telemetry.Telemetry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A telemetry that does roughly the least a real metrics sink must: find the group's counters
 * by name (one concurrent map lookup, created on first use) and bump striped adders. It stands
 * between {@link Telemetry#NOOP} and the Micrometer implementation in the server.
 */
final class CountingTelemetry implements Telemetry {

  private static final class GroupCounters {
    final LongAdder[] requests = new LongAdder[Outcome.values().length];
    final LongAdder durationNanos = new LongAdder();
    final DoubleAdder ruRead = new DoubleAdder();
    final DoubleAdder ruWrite = new DoubleAdder();
    final LongAdder shed = new LongAdder();
    final LongAdder queueWaitNanos = new LongAdder();

    GroupCounters() {
      for (int i = 0; i < requests.length; i++) {
        requests[i] = new LongAdder();
      }
    }
  }

  private final ConcurrentHashMap<String, GroupCounters> groups = new ConcurrentHashMap<>();

  private GroupCounters group(String name) {
    GroupCounters c = groups.get(name);
    return c != null ? c : groups.computeIfAbsent(name, n -> new GroupCounters());
  }

  @Override
  public void requestCompleted(String listener, String protocol, String group, Outcome outcome,
      long durationNanos) {
    GroupCounters c = group(group);
    c.requests[outcome.ordinal()].increment();
    c.durationNanos.add(durationNanos);
  }

  @Override
  public void ruCharged(String group, boolean write, double ru) {
    GroupCounters c = group(group);
    (write ? c.ruWrite : c.ruRead).add(ru);
  }

  @Override
  public void shed(String group, Priority priority, ShedReason reason) {
    group(group).shed.increment();
  }

  @Override
  public void queueWait(String group, Priority priority, long nanos) {
    group(group).queueWaitNanos.add(nanos);
  }

  /** Requests completed with {@code outcome} over all groups (a sanity check after a run). */
  long completed(Outcome outcome) {
    long n = 0;
    for (GroupCounters c : groups.values()) {
      n += c.requests[outcome.ordinal()].sum();
    }
    return n;
  }
}

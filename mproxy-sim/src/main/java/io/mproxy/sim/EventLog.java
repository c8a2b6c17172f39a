package io.mproxy.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What happened in a run, as a running 64-bit hash of every event (time, kind, ids) plus the last
 * few events as text for debugging. Two runs of one seed must end with the same hash: that is the
 * determinism test. The hash is order-sensitive, so a reordering of two events changes it.
 */
public final class EventLog {

  /** Event kinds, numbered for the hash. */
  public enum Kind {
    ARRIVE, ADMIT, REFUSE, DISPATCH, REPLY, COMPLETE, TIMEOUT, RETRY, GIVE_UP, BACKEND_CRASH,
    BACKEND_RESTART, BACKEND_HANG, OPEN, OPEN_FAIL, PROBE_DOWN, PROBE_UP, GOSSIP_SEND, GOSSIP_DELIVER,
    GOSSIP_LOST, SHARE, FAULT
  }

  private final int traceSize;
  private final ArrayDeque<String> trace;
  private long hash = 0x84222325CBF29CE4L;
  private long count;

  /** @param traceSize how many recent events to keep as text (0 for none) */
  public EventLog(int traceSize) {
    this.traceSize = traceSize;
    this.trace = new ArrayDeque<>(Math.max(1, traceSize));
  }

  public void record(long timeNanos, Kind kind, long a, long b) {
    long h = hash;
    h = SimRandom.mix(h ^ timeNanos);
    h = SimRandom.mix(h ^ ((long) kind.ordinal() << 56 ^ a));
    h = SimRandom.mix(h ^ b);
    hash = h;
    count++;
    if (traceSize > 0) {
      if (trace.size() == traceSize) {
        trace.removeFirst();
      }
      trace.addLast(timeNanos + " " + kind + " " + a + " " + b);
    }
  }

  public long hash() {
    return hash;
  }

  public long count() {
    return count;
  }

  /** The most recent events, oldest first. */
  public List<String> recent() {
    return new ArrayList<>(trace);
  }
}

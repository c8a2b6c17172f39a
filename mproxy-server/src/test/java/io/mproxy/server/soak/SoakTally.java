package io.mproxy.server.soak;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What became of every request the soak sent, per protocol: answered ok, answered with an error
 * (by kind: the protocol's error code, {@code refused} for the proxy's own refusals, or
 * {@code connection} when the connection was closed or refused, which the client sees at once),
 * or lost: no answer before the request timeout. {@code sent} is counted before a request is
 * issued, so {@code sent == ok + errors + lost} holds once every worker has stopped.
 */
final class SoakTally {

  /** How one request ended. */
  enum Result { OK, ERROR, LOST }

  private final Map<String, LongAdder> sent = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> ok = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> lost = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> faults = new ConcurrentHashMap<>();

  void recordSent(String protocol) {
    add(sent, protocol);
  }

  void recordOk(String protocol) {
    add(ok, protocol);
  }

  void recordLost(String protocol) {
    add(lost, protocol);
  }

  void recordError(String protocol, String kind) {
    add(errors, protocol + " " + kind);
  }

  void recordFault(String kind) {
    add(faults, kind);
  }

  /**
   * Counts as lost every request that was sent and has no outcome (a worker still waiting when
   * the run ended). Call once, after the workers were joined.
   */
  void settleUnresolved() {
    for (String p : sent.keySet()) {
      long resolved = get(ok, p) + get(lost, p);
      for (var e : errors.entrySet()) {
        if (e.getKey().startsWith(p + " ")) {
          resolved += e.getValue().sum();
        }
      }
      for (long n = sent.get(p).sum() - resolved; n > 0; n--) {
        recordLost(p);
      }
    }
  }

  private static long get(Map<String, LongAdder> m, String key) {
    LongAdder a = m.get(key);
    return a == null ? 0 : a.sum();
  }

  long sent() {
    return total(sent);
  }

  long ok() {
    return total(ok);
  }

  long lost() {
    return total(lost);
  }

  long errors() {
    return total(errors);
  }

  long ok(String protocol) {
    LongAdder a = ok.get(protocol);
    return a == null ? 0 : a.sum();
  }

  long faults(String kind) {
    LongAdder a = faults.get(kind);
    return a == null ? 0 : a.sum();
  }

  /** The report printed at the end: totals, then per protocol, errors by kind and faults. */
  String report() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("sent %d  answered %d (ok %d, error %d)  lost %d%n", sent(), ok() + errors(), ok(),
        errors(), lost()));
    for (String p : new TreeMap<>(sent).keySet()) {
      b.append(String.format("  %-9s sent %8d  ok %8d  lost %d%n", p, sent.get(p).sum(), ok(p),
          lost.getOrDefault(p, new LongAdder()).sum()));
    }
    b.append("errors by kind:").append(errors.isEmpty() ? " none" : "").append('\n');
    new TreeMap<>(errors).forEach((k, v) -> b.append(String.format("  %-40s %d%n", k, v.sum())));
    b.append("faults injected:").append(faults.isEmpty() ? " none" : "").append('\n');
    new TreeMap<>(faults).forEach((k, v) -> b.append(String.format("  %-40s %d%n", k, v.sum())));
    return b.toString();
  }

  private static void add(Map<String, LongAdder> m, String key) {
    m.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  private static long total(Map<String, LongAdder> m) {
    return m.values().stream().mapToLong(LongAdder::sum).sum();
  }
}

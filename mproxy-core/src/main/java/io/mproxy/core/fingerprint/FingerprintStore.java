package io.mproxy.core.fingerprint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Per-query-shape statistics with bounded memory: at most {@code maxFingerprints} shapes are
 * kept, ranked by RU (a space-saving sketch over RU rather than counts). When a new shape
 * arrives at a full store, the cheapest tenth is evicted in one pass, and new shapes start with
 * the largest RU evicted so far as their possible under-count ({@link FingerprintStats#ruError()}),
 * so a shape that really is heavy climbs into the kept set while endless one-off shapes churn
 * at the bottom. Deterministic (no sampling), so the simulation replays it exactly.
 */
public final class FingerprintStore {

  private final int maxFingerprints;
  private final ConcurrentHashMap<String, FingerprintStats> stats = new ConcurrentHashMap<>();
  private final Object pruneLock = new Object();
  /** The most RU (own plus inherited) any evicted shape held: the sketch's error bound. */
  private volatile double evictedRuMax;

  public FingerprintStore(int maxFingerprints) {
    if (maxFingerprints < 1) {
      throw new IllegalArgumentException("maxFingerprints: " + maxFingerprints + " (expected: >= 1)");
    }
    this.maxFingerprints = maxFingerprints;
  }

  /** The stable short id of a fingerprint (16 hex digits of FNV-1a 64), usable in runaway rules. */
  public static String id(String fingerprint) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < fingerprint.length(); i++) {
      char c = fingerprint.charAt(i);
      h = (h ^ (c & 0xff)) * 0x100000001b3L;
      h = (h ^ (c >>> 8)) * 0x100000001b3L;
    }
    return String.format("%016x", h);
  }

  /** The shape's recent mean RU, or 0 when it has not been seen. */
  public double meanRu(String fingerprint) {
    if (fingerprint == null) {
      return 0;
    }
    FingerprintStats s = stats.get(fingerprint);
    return s == null ? 0 : s.meanRu();
  }

  /** The shape's statistics, or null when it is not (or no longer) kept. */
  public FingerprintStats get(String fingerprint) {
    return fingerprint == null ? null : stats.get(fingerprint);
  }

  public void record(String fingerprint, String protocol, double ru, long latencyNanos) {
    if (fingerprint == null) {
      return;
    }
    FingerprintStats s = stats.get(fingerprint);
    if (s == null) {
      if (stats.size() >= maxFingerprints) {
        prune();
      }
      double inherited = evictedRuMax;
      s = stats.computeIfAbsent(fingerprint, f -> new FingerprintStats(f, protocol, inherited));
    }
    s.record(ru, latencyNanos);
  }

  /** Shapes currently kept (at most {@code maxFingerprints}, give or take concurrent inserts). */
  public int size() {
    return stats.size();
  }

  /** The largest RU an evicted shape held: a kept shape's RU may be under-counted by this much. */
  public double evictedRuMax() {
    return evictedRuMax;
  }

  private void prune() {
    synchronized (pruneLock) {
      int size = stats.size();
      if (size < maxFingerprints) {
        return;
      }
      int keep = Math.max(0, maxFingerprints - Math.max(1, maxFingerprints / 10));
      List<Ranked> all = ranked(FingerprintStats::rank);
      all.sort(Comparator.comparingDouble(Ranked::value));
      double max = evictedRuMax;
      for (int i = 0; i < all.size() - keep; i++) {
        Ranked victim = all.get(i);
        stats.remove(victim.stats().fingerprint(), victim.stats());
        max = Math.max(max, victim.value());
      }
      evictedRuMax = max;
    }
  }

  /** The {@code n} shapes that have cost the most RU, most expensive first. */
  public List<FingerprintStats> top(int n) {
    if (n <= 0) {
      return List.of();
    }
    List<Ranked> all = ranked(FingerprintStats::ruTotal);
    all.sort(Comparator.comparingDouble(Ranked::value).reversed()
        .thenComparing(r -> r.stats().fingerprint()));
    List<FingerprintStats> out = new ArrayList<>(Math.min(n, all.size()));
    for (int i = 0; i < all.size() && i < n; i++) {
      out.add(all.get(i).stats());
    }
    return List.copyOf(out);
  }

  /**
   * Every kept shape with its key read once: the event loops keep adding RU while a sort runs,
   * and a sort whose keys move under it can throw ("Comparison method violates its general
   * contract") — on the request path, for a prune.
   */
  private List<Ranked> ranked(ToDoubleFunction<FingerprintStats> key) {
    List<Ranked> all = new ArrayList<>(stats.size());
    for (FingerprintStats s : stats.values()) {
      all.add(new Ranked(s, key.applyAsDouble(s)));
    }
    return all;
  }

  private record Ranked(FingerprintStats stats, double value) {
  }
}

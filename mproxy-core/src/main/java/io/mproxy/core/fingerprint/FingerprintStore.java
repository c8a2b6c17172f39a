package io.mproxy.core.fingerprint;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Per-query-shape statistics, bounded (the least valuable shapes are evicted past
 * {@code maxFingerprints}), so clients that send endless distinct shapes cannot grow it.
 */
public final class FingerprintStore {

  private final Cache<String, FingerprintStats> stats;

  public FingerprintStore(int maxFingerprints) {
    this.stats = Caffeine.newBuilder().maximumSize(maxFingerprints).executor(Runnable::run).build();
  }

  /** The shape's recent mean RU, or 0 when it has not been seen. */
  public double meanRu(String fingerprint) {
    if (fingerprint == null) {
      return 0;
    }
    FingerprintStats s = stats.getIfPresent(fingerprint);
    return s == null ? 0 : s.meanRu();
  }

  public void record(String fingerprint, String protocol, double ru, long latencyNanos) {
    if (fingerprint == null) {
      return;
    }
    stats.get(fingerprint, f -> new FingerprintStats(f, protocol)).record(ru, latencyNanos);
  }

  /** The {@code n} shapes that have cost the most RU, most expensive first. */
  public List<FingerprintStats> top(int n) {
    List<FingerprintStats> all = new ArrayList<>(stats.asMap().values());
    all.sort(Comparator.comparingDouble(FingerprintStats::ruTotal).reversed());
    return all.size() > n ? List.copyOf(all.subList(0, n)) : List.copyOf(all);
  }
}

package io.mproxy.server.usage;

import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * RU consumed per tenant, per resource group and per query fingerprint, kept in a ring of
 * wall-clock buckets (one per {@code bucketMillis}) so {@code /api/usage} can answer for any
 * recent window — for usage-based billing and chargeback.
 *
 * <p>Memory is bounded whatever the clients do: each bucket keeps at most {@code maxKeys}
 * distinct names per dimension; RU of further names is still counted, under {@link #OTHER}.
 * Recording is lock-free on the hot path (a map lookup and two adders); a bucket is cleared when
 * the ring wraps onto it.
 */
public final class UsageMeter {

  /** The row that absorbs names past the cardinality bound and below the top N. */
  public static final String OTHER = "other";
  static final String NONE = "-";

  public enum Dimension { TENANT, GROUP, FINGERPRINT }

  /** One name's usage in a window. */
  public record Row(String name, double ru, long requests) {
  }

  /** A window's usage: totals and, per dimension, the top rows plus {@link #OTHER}. */
  public record Report(long fromMillis, long toMillis, double totalRu, long totalRequests,
      Map<Dimension, List<Row>> rows) {
  }

  private static final int MAX_CACHED_NAMES = 10_000;

  private final Clock clock;
  private final long bucketMillis;
  private final int maxKeys;
  private final Bucket[] ring;
  /** Tenant names already built (one string per identity, not one per request), bounded. */
  private final ConcurrentHashMap<TenantIdentity, String> names = new ConcurrentHashMap<>();

  public UsageMeter(Clock clock, long bucketMillis, int buckets, int maxKeys) {
    if (bucketMillis < 1 || buckets < 2 || maxKeys < 1) {
      throw new IllegalArgumentException("bucketMillis >= 1, buckets >= 2, maxKeys >= 1");
    }
    this.clock = clock;
    this.bucketMillis = bucketMillis;
    this.maxKeys = maxKeys;
    this.ring = new Bucket[buckets];
    for (int i = 0; i < buckets; i++) {
      ring[i] = new Bucket();
    }
  }

  /** One-minute buckets for an hour, 1,000 names per dimension per minute. */
  public static UsageMeter standard(Clock clock) {
    return new UsageMeter(clock, 60_000, 60, 1_000);
  }

  /** The system clock, for the daemon (tests pass a {@code ManualClock}). */
  public static Clock systemClock() {
    return new Clock() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public long wallMillis() {
        return System.currentTimeMillis();
      }
    };
  }

  /** The longest window a report can cover. */
  public long maxWindowMillis() {
    return bucketMillis * (ring.length - 1);
  }

  /** The tenant's name in reports: {@code user@database on listener}, {@code -} for unknowns. */
  public static String tenantName(TenantIdentity t) {
    if (t == null) {
      return NONE;
    }
    return orNone(t.user()) + "@" + orNone(t.database()) + " on " + orNone(t.listener());
  }

  private String cachedName(TenantIdentity tenant) {
    if (tenant == null) {
      return NONE;
    }
    String name = names.get(tenant);
    if (name == null) {
      name = tenantName(tenant);
      if (names.size() >= MAX_CACHED_NAMES) {
        names.clear();
      }
      names.put(tenant, name);
    }
    return name;
  }

  public void record(TenantIdentity tenant, String group, String fingerprint, double ru) {
    if (!(ru > 0) || !Double.isFinite(ru)) {
      return;
    }
    Bucket b = current(clock.wallMillis() / bucketMillis);
    b.add(Dimension.TENANT, cachedName(tenant), ru, maxKeys);
    b.add(Dimension.GROUP, group == null ? NONE : group, ru, maxKeys);
    b.add(Dimension.FINGERPRINT, fingerprint == null ? NONE : fingerprint, ru, maxKeys);
  }

  private Bucket current(long epoch) {
    Bucket b = ring[(int) Math.floorMod(epoch, (long) ring.length)];
    if (b.epoch != epoch) {
      synchronized (b) {
        if (b.epoch != epoch) {
          b.reset(epoch);
        }
      }
    }
    return b;
  }

  /**
   * Usage over the last {@code windowMillis} (rounded up to whole buckets, the current partial
   * one included), the {@code top} largest names per dimension plus one {@link #OTHER} row.
   */
  public Report report(long windowMillis, int top) {
    long now = clock.wallMillis();
    long newest = now / bucketMillis;
    long count = Math.max(1, Math.min(ring.length - 1, (windowMillis + bucketMillis - 1) / bucketMillis));
    long oldest = newest - count + 1;
    Map<Dimension, Map<String, double[]>> sums = new HashMap<>();
    for (Dimension d : Dimension.values()) {
      sums.put(d, new HashMap<>());
    }
    for (long e = oldest; e <= newest; e++) {
      Bucket b = ring[(int) Math.floorMod(e, (long) ring.length)];
      if (b.epoch != e) {
        continue;
      }
      for (Dimension d : Dimension.values()) {
        Map<String, double[]> into = sums.get(d);
        b.cells.get(d).forEach((name, cell) -> {
          double[] s = into.computeIfAbsent(name, k -> new double[2]);
          s[0] += cell.ru.sum();
          s[1] += cell.requests.sum();
        });
      }
    }
    Map<Dimension, List<Row>> rows = new HashMap<>();
    double totalRu = 0;
    long totalRequests = 0;
    for (Dimension d : Dimension.values()) {
      List<Row> all = new ArrayList<>();
      sums.get(d).forEach((name, s) -> all.add(new Row(name, s[0], (long) s[1])));
      if (d == Dimension.GROUP) {
        for (Row r : all) {
          totalRu += r.ru();
          totalRequests += r.requests();
        }
      }
      rows.put(d, topWithOther(all, top));
    }
    return new Report(oldest * bucketMillis, now, totalRu, totalRequests, rows);
  }

  static List<Row> topWithOther(List<Row> all, int top) {
    all.sort(Comparator.comparingDouble(Row::ru).reversed().thenComparing(Row::name));
    List<Row> out = new ArrayList<>();
    double otherRu = 0;
    long otherRequests = 0;
    for (Row r : all) {
      if (out.size() < top && !OTHER.equals(r.name())) {
        out.add(r);
      } else {
        otherRu += r.ru();
        otherRequests += r.requests();
      }
    }
    if (otherRequests > 0 || otherRu > 0) {
      out.add(new Row(OTHER, otherRu, otherRequests));
    }
    return out;
  }

  private static String orNone(String s) {
    return s == null || s.isEmpty() ? NONE : s;
  }

  /** One bucket's cells; {@code epoch} is the bucket number it currently holds. */
  private static final class Bucket {
    volatile long epoch = Long.MIN_VALUE;
    final Map<Dimension, ConcurrentHashMap<String, Cell>> cells = new HashMap<>();

    Bucket() {
      for (Dimension d : Dimension.values()) {
        cells.put(d, new ConcurrentHashMap<>());
      }
    }

    void reset(long newEpoch) {
      cells.values().forEach(Map::clear);
      epoch = newEpoch;
    }

    void add(Dimension d, String name, double ru, int maxKeys) {
      ConcurrentHashMap<String, Cell> m = cells.get(d);
      Cell c = m.get(name);
      if (c == null) {
        String key = m.size() >= maxKeys ? OTHER : name;
        c = m.computeIfAbsent(key, k -> new Cell());
      }
      c.ru.add(ru);
      c.requests.increment();
    }
  }

  private static final class Cell {
    final DoubleAdder ru = new DoubleAdder();
    final LongAdder requests = new LongAdder();
  }
}

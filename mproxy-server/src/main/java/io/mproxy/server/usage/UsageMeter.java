package io.mproxy.server.usage;

import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.Clock;
import io.mproxy.core.telemetry.PerThread;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RU consumed per tenant, per resource group and per query fingerprint, kept in a ring of
 * wall-clock buckets (one per {@code bucketMillis}) so {@code /api/usage} can answer for any
 * recent window — for usage-based billing and chargeback.
 *
 * <p>Memory is bounded whatever the clients do: each bucket keeps at most {@code maxKeys}
 * distinct names per dimension; RU of further names is still counted, under {@link #OTHER}.
 *
 * <p>Recording writes nothing another thread writes: each thread (each event loop) adds to its
 * own cells ({@link PerThread}), one set per bucket period, also capped at {@code maxKeys} names
 * per dimension. {@link #publish} folds what every thread added since the previous publish into
 * the shared ring, into the bucket of the period each thread recorded it in (not the period of
 * the publish); {@link #report} publishes first, so a report sees every request recorded before
 * it. A thread that stops recording is still published: its cells stay readable. The daemon also
 * publishes about once a second, which bounds the memory of threads nobody reads (a thread's
 * periods not yet published, one per {@code bucketMillis}).
 */
public final class UsageMeter {

  /** The row that absorbs names past the cardinality bound and below the top N. */
  public static final String OTHER = "other";
  static final String NONE = "-";

  public enum Dimension { TENANT, GROUP, FINGERPRINT }

  private static final Dimension[] DIMENSIONS = Dimension.values();

  /** One name's usage in a window. */
  public record Row(String name, double ru, long requests) {
  }

  /** A window's usage: totals and, per dimension, the top rows plus {@link #OTHER}. */
  public record Report(long fromMillis, long toMillis, double totalRu, long totalRequests,
      Map<Dimension, List<Row>> rows) {
  }

  private static final int MAX_CACHED_NAMES = 10_000;
  /** How long a thread trusts its cached bucket before it reads the wall clock again. */
  static final long WALL_RECHECK_NANOS = 1_000_000_000L;

  private final Clock clock;
  private final long bucketMillis;
  private final int maxKeys;
  /** The shared ring; read and written only under {@code this} (publish and report). */
  private final Bucket[] ring;
  private final PerThread<Shard> shards;
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
    this.shards = new PerThread<>(Shard::new);
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

  /** Records a request that ended now: reads the wall clock. */
  public void record(TenantIdentity tenant, String group, String fingerprint, double ru) {
    if (!(ru > 0) || !Double.isFinite(ru)) {
      return;
    }
    add(shards.get().period(clock.wallMillis() / bucketMillis), tenant, group, fingerprint, ru);
  }

  /**
   * Records a request that ended at {@code endNanos}, a reading of this meter's clock's
   * {@link Clock#nanoTime()} taken at its end (the daemon passes the gateway's reading: both are
   * {@code System.nanoTime()}). The wall clock is read only when the thread's cached bucket may
   * have ended: at most once per {@link #WALL_RECHECK_NANOS} and at each bucket boundary, instead
   * of once per request. A step of the wall clock is therefore seen within a second; a request
   * is never attributed more than that late to the bucket after its own.
   */
  public void record(TenantIdentity tenant, String group, String fingerprint, double ru, long endNanos) {
    if (!(ru > 0) || !Double.isFinite(ru)) {
      return;
    }
    Shard shard = shards.get();
    Period p;
    if (endNanos - shard.periodFromNanos >= 0 && endNanos - shard.periodUntilNanos < 0) {
      p = shard.current;
    } else {
      long wall = clock.wallMillis();
      long epoch = Math.floorDiv(wall, bucketMillis);
      long leftNanos = ((epoch + 1) * bucketMillis - wall) * 1_000_000L;
      p = shard.period(epoch);
      shard.periodFromNanos = endNanos;
      shard.periodUntilNanos = endNanos + Math.min(WALL_RECHECK_NANOS, leftNanos);
    }
    add(p, tenant, group, fingerprint, ru);
  }

  /**
   * Adds to the period's cells of the request's tenant, group and fingerprint, each found
   * through a one-entry cache in the period: a thread's requests come in runs from the same
   * group and (interned) fingerprint, compared by identity. Tenants are compared by value too:
   * every session holds its own identity object, and an event loop serving many sessions of one
   * tenant interleaves them, so an identity-only cache would miss on nearly every request.
   */
  private void add(Period p, TenantIdentity tenant, String group, String fingerprint, double ru) {
    tenantCell(p, tenant).add(ru);
    String g = group == null ? NONE : group;
    Cell gc = p.lastGroupCell;
    if (p.lastGroup != g) {
      gc = p.cell(Dimension.GROUP, g, maxKeys);
      p.lastGroup = g;
      p.lastGroupCell = gc;
      p.lookUps++;
    }
    gc.add(ru);
    String f = fingerprint == null ? NONE : fingerprint;
    Cell fc = p.lastFingerprintCell;
    if (p.lastFingerprint != f) {
      fc = p.cell(Dimension.FINGERPRINT, f, maxKeys);
      p.lastFingerprint = f;
      p.lastFingerprintCell = fc;
      p.lookUps++;
    }
    fc.add(ru);
  }

  private Cell tenantCell(Period p, TenantIdentity tenant) {
    TenantIdentity last = p.lastTenant;
    if (last == tenant && last != null) {
      return p.lastTenantCell;
    }
    if (tenant == null) {
      Cell c = p.noTenantCell;
      if (c == null) {
        c = p.cell(Dimension.TENANT, NONE, maxKeys);
        p.noTenantCell = c;
        p.lookUps++;
      }
      return c;
    }
    if (!tenant.equals(last)) {
      p.lastTenantCell = p.cell(Dimension.TENANT, cachedName(tenant), maxKeys);
      p.lookUps++;
    }
    p.lastTenant = tenant;
    return p.lastTenantCell;
  }

  /** Map look-ups of cells the calling thread made in its current period (for tests). */
  long cellLookUps() {
    return shards.get().current.lookUps;
  }

  /**
   * Folds what every thread recorded since the last publish into the shared ring. Called by
   * {@link #report} and periodically by the daemon; never on the request path.
   */
  public synchronized void publish() {
    shards.forEach(this::drain);
  }

  private void drain(Shard shard) {
    Period p = shard.unpublished;
    while (true) {
      Period next = p.next;
      fold(p);
      if (next == null) {
        shard.unpublished = p;
        return;
      }
      p = next;
    }
  }

  /** Adds what {@code p}'s cells gained since they were last folded to the bucket of p's period. */
  private void fold(Period p) {
    Bucket b = ring[(int) Math.floorMod(p.epoch, (long) ring.length)];
    if (b.epoch > p.epoch) {
      return;
    }
    if (b.epoch < p.epoch) {
      b.reset(p.epoch);
    }
    int n = p.size();
    Cell[] cells = p.cells;
    for (int i = 0; i < n; i++) {
      Cell c = cells[i];
      long requests = c.requests();
      double ru = c.ru();
      long dq = requests - c.publishedRequests;
      double dr = ru - c.publishedRu;
      if (dq == 0 && dr == 0) {
        continue;
      }
      c.publishedRequests = requests;
      c.publishedRu = ru;
      b.add(c.dimension, c.name, dr, dq, maxKeys);
    }
  }

  /**
   * Usage over the last {@code windowMillis} (rounded up to whole buckets, the current partial
   * one included), the {@code top} largest names per dimension plus one {@link #OTHER} row.
   */
  public synchronized Report report(long windowMillis, int top) {
    publish();
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
        b.cells[d.ordinal()].forEach((name, cell) -> {
          double[] s = into.computeIfAbsent(name, k -> new double[2]);
          s[0] += cell[0];
          s[1] += cell[1];
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

  /** One bucket of the shared ring; {@code epoch} is the bucket number it currently holds. */
  private static final class Bucket {
    long epoch = Long.MIN_VALUE;
    @SuppressWarnings("unchecked")
    final HashMap<String, double[]>[] cells = new HashMap[DIMENSIONS.length];

    Bucket() {
      for (int i = 0; i < cells.length; i++) {
        cells[i] = new HashMap<>();
      }
    }

    void reset(long newEpoch) {
      for (HashMap<String, double[]> m : cells) {
        m.clear();
      }
      epoch = newEpoch;
    }

    void add(Dimension d, String name, double ru, long requests, int maxKeys) {
      HashMap<String, double[]> m = cells[d.ordinal()];
      double[] c = m.get(name);
      if (c == null) {
        c = m.computeIfAbsent(m.size() >= maxKeys ? OTHER : name, k -> new double[2]);
      }
      c[0] += ru;
      c[1] += requests;
    }
  }

  /**
   * One thread's recording state: the period it records into now (and the monotonic span in
   * which it stays valid), and the oldest period the publisher has not finished. Fields other
   * than {@code unpublished} are the owner thread's; {@code unpublished} is the publisher's.
   */
  private static final class Shard {
    Period current = new Period(Long.MIN_VALUE);
    Period unpublished = current;
    /** The monotonic span in which {@code current} is known to be the wall clock's bucket. */
    long periodFromNanos;
    long periodUntilNanos = periodFromNanos;

    Period period(long epoch) {
      Period p = current;
      if (p.epoch == epoch) {
        return p;
      }
      Period next = new Period(epoch);
      current = next;
      p.next = next;
      return next;
    }
  }

  /**
   * What one thread recorded in one bucket period. The owner appends cells and publishes each
   * with a release store of {@code size}; once the owner links {@code next}, it never writes
   * here again, so a publisher that reads {@code next} first and then the cells sees their final
   * values.
   */
  private static final class Period {
    private static final VarHandle SIZE;

    static {
      try {
        SIZE = MethodHandles.lookup().findVarHandle(Period.class, "size", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final long epoch;
    @SuppressWarnings("unchecked")
    final HashMap<String, Cell>[] byName = new HashMap[DIMENSIONS.length];
    volatile Cell[] cells = new Cell[8];
    private int size;
    volatile Period next;
    /** The owner's last key and cell per dimension (see {@code UsageMeter.add}); never published. */
    TenantIdentity lastTenant;
    Cell lastTenantCell;
    /** The cell of requests without a tenant. */
    Cell noTenantCell;
    String lastGroup;
    Cell lastGroupCell;
    String lastFingerprint;
    Cell lastFingerprintCell;
    /** How often the owner missed that cache; read by tests only. */
    long lookUps;

    Period(long epoch) {
      this.epoch = epoch;
      for (int i = 0; i < byName.length; i++) {
        byName[i] = new HashMap<>();
      }
    }

    int size() {
      return (int) SIZE.getAcquire(this);
    }

    Cell cell(Dimension d, String name, int maxKeys) {
      HashMap<String, Cell> m = byName[d.ordinal()];
      Cell c = m.get(name);
      if (c != null) {
        return c;
      }
      String key = m.size() >= maxKeys ? OTHER : name;
      c = m.get(key);
      if (c != null) {
        return c;
      }
      c = new Cell(d, key);
      m.put(key, c);
      Cell[] a = cells;
      if (size == a.length) {
        a = Arrays.copyOf(a, size * 2);
        a[size] = c;
        cells = a;
      } else {
        a[size] = c;
      }
      SIZE.setRelease(this, size + 1);
      return c;
    }
  }

  /**
   * One name's running totals on one thread in one period: written by the owner with release
   * stores (no fence, no read-modify-write), read by the publisher, which keeps what it has
   * already folded in.
   */
  private static final class Cell {
    private static final VarHandle RU;
    private static final VarHandle REQUESTS;

    static {
      try {
        MethodHandles.Lookup l = MethodHandles.lookup();
        RU = l.findVarHandle(Cell.class, "ru", double.class);
        REQUESTS = l.findVarHandle(Cell.class, "requests", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Dimension dimension;
    final String name;
    private double ru;
    private long requests;
    double publishedRu;
    long publishedRequests;

    Cell(Dimension dimension, String name) {
      this.dimension = dimension;
      this.name = name;
    }

    void add(double x) {
      RU.setRelease(this, ru + x);
      REQUESTS.setRelease(this, requests + 1);
    }

    double ru() {
      return (double) RU.getAcquire(this);
    }

    long requests() {
      return (long) REQUESTS.getAcquire(this);
    }
  }
}

package io.mproxy.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.telemetry.PerThreadHistogram;
import io.mproxy.core.telemetry.Telemetry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The server's {@link Telemetry}: per-request events become the Micrometer meters whose
 * Prometheus names CONTRACT.md fixes ({@code mproxy_requests_total}, {@code mproxy_ru_total},
 * {@code mproxy_request_duration_seconds}, {@code mproxy_queue_wait_seconds},
 * {@code mproxy_shed_total}) plus {@code mproxy_config_reloads_total},
 * {@code mproxy_would_shed_total{group,priority,reason}} (shadow mode) and
 * {@code mproxy_runaway_actions_total{rule,action,mode}}.
 *
 * <p>Core calls it on event loops for every request, so meters are looked up once per label
 * set and cached in nested maps keyed by the label values themselves, with a small direct-mapped
 * cache in front that finds a label set again by the identity of its strings (the same
 * configuration strings come with every request): the steady state is one array load, three
 * reference comparisons and the meter update, with no registry lookup and no allocation.
 * Label values come from the configuration (listener, group and protocol names) and from enums,
 * so the caches are bounded by the configuration, not by clients.
 *
 * <p>The per-request counters ({@code mproxy_requests_total}, {@code mproxy_ru_total}) are
 * {@link FunctionCounter}s over per-thread cells ({@link PerThread}): each event loop adds to its
 * own cell with a release store, and a scrape or an export sums the cells, so the series and their
 * values are what plain counters gave, with nothing shared written per request and no lag. The
 * duration histogram is per thread too ({@link PerThreadHistogram}) and reaches the Prometheus
 * registry through {@link RequestDurationCollector} at scrape time, rendered as the Micrometer
 * timer it replaces rendered ({@code _bucket}, {@code _count}, {@code _sum}, {@code _max}). Other
 * registries in a composite (OTLP) still get a Micrometer timer recorded per request; a registry
 * without a Prometheus member gets only that timer.
 */
public final class MicrometerTelemetry implements Telemetry {

  /** Histogram buckets of both latency histograms: 100 µs to 60 s. */
  static final Duration[] LATENCY_BUCKETS = {
      Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2_500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};

  private static final String DURATION_HELP = "Time from a request's arrival to its end";
  /**
   * The decaying maximum ({@code _max}) of the per-thread histograms: Micrometer's Prometheus
   * default (a step of one minute in three rotating buffers).
   */
  private static final Duration MAX_INTERVAL = PrometheusConfig.DEFAULT.step().dividedBy(3);
  private static final int MAX_WINDOWS = 3;
  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final Priority[] PRIORITIES = Priority.values();
  private static final ShedReason[] REASONS = ShedReason.values();
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  /** Slots of the identity caches in front of the label maps (a power of two). */
  private static final int RECENT = 64;
  private static final VarHandle DOUBLES = MethodHandles.arrayElementVarHandle(double[].class);

  private final MeterRegistry registry;
  /** The Prometheus registry the per-thread duration histograms publish to, or null. */
  private final PrometheusMeterRegistry prometheus;
  /** Where request durations are still recorded as Micrometer timers (OTLP, or any non-Prometheus registry). */
  private final List<MeterRegistry> timerRegistries;
  private final RequestDurationCollector durations;
  /** [group, listener] → its duration histogram. */
  private final ConcurrentHashMap<List<String>, PerThreadHistogram> histograms = new ConcurrentHashMap<>();
  /** listener → protocol → group → meters. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, ConcurrentHashMap<String, RequestMeters>>>
      requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, GroupMeters> groups = new ConcurrentHashMap<>();
  /**
   * The meters of label sets seen lately, by the identity of the label strings: shared by the
   * event loops without locks (entries are immutable; a race or a miss only costs the maps).
   */
  private final RecentRequest[] recentRequests = new RecentRequest[RECENT];
  private final RecentGroup[] recentGroups = new RecentGroup[RECENT];
  /** "rule\0action\0mode" → mproxy_runaway_actions_total; rule names come from the configuration. */
  private final ConcurrentHashMap<String, Counter> runaway = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> hintCounters = new ConcurrentHashMap<>();
  private final Counter reloadsOk;
  private final Counter reloadsError;

  public MicrometerTelemetry(MeterRegistry registry) {
    this.registry = registry;
    this.prometheus = prometheusIn(registry);
    this.timerRegistries = timerRegistries(registry, prometheus);
    if (prometheus != null) {
      this.durations = new RequestDurationCollector("mproxy_request_duration_seconds", DURATION_HELP, boundsNanos());
      prometheus.getPrometheusRegistry().register(durations);
    } else {
      this.durations = null;
    }
    this.reloadsOk = reloadCounter("ok");
    this.reloadsError = reloadCounter("error");
  }

  @Override
  public void requestCompleted(String listener, String protocol, String group, Outcome outcome,
      long durationNanos) {
    RequestMeters m = requestMeters(label(listener), label(protocol), label(group));
    long[] c = m.counts.get();
    int o = outcome.ordinal();
    LONGS.setRelease(c, o, c[o] + 1);
    if (m.duration != null) {
      m.duration.record(durationNanos);
    }
    for (Timer t : m.timers) {
      t.record(durationNanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void ruCharged(String group, boolean write, double ru) {
    double[] c = groupMeters(label(group)).ru.get();
    int k = write ? 1 : 0;
    DOUBLES.setRelease(c, k, c[k] + ru);
  }

  @Override
  public void shed(String group, Priority priority, ShedReason reason) {
    groupMeters(label(group)).shed(priority, reason).increment();
  }

  @Override
  public void wouldShed(String group, Priority priority, ShedReason reason) {
    groupMeters(label(group)).wouldShed(priority, reason).increment();
  }

  @Override
  public void runawayAction(String rule, String action, String mode) {
    String key = rule + '\0' + action + '\0' + mode;
    Counter c = runaway.get(key);
    if (c == null) {
      c = runaway.computeIfAbsent(key, k -> Counter.builder("mproxy_runaway_actions")
          .description("Runaway-query rule actions taken (mode enforce) or that would have been (shadow)")
          .tags("rule", label(rule), "action", label(action), "mode", label(mode))
          .register(registry));
    }
    c.increment();
  }

  @Override
  public void hint(String group, String result) {
    hintCounters.computeIfAbsent(label(group) + '\u0000' + result, k -> Counter.builder("mproxy_hints")
        .description("Requests that carried a hint, by whether the hint was applied or ignored")
        .tags("group", label(group), "result", result)
        .register(registry)).increment();
  }

  @Override
  public void hintTimeout(String group) {
    hintCounters.computeIfAbsent(label(group) + "\u0000timeout", k -> Counter.builder("mproxy_hint_timeouts")
        .description("Requests a hinted per-query timeout ended")
        .tags("group", label(group))
        .register(registry)).increment();
  }

  @Override
  public void queueWait(String group, Priority priority, long nanos) {
    groupMeters(label(group)).queueWait(priority).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A configuration reload finished ({@code mproxy_config_reloads_total{result="ok|error"}}). */
  public void configReload(boolean ok) {
    (ok ? reloadsOk : reloadsError).increment();
  }

  private RequestMeters requestMeters(String listener, String protocol, String group) {
    // the same label strings (configuration names, protocol constants) come with every request:
    // found again by identity in a direct-mapped slot before the three nested maps
    int slot = (31 * (31 * listener.hashCode() + protocol.hashCode()) + group.hashCode()) & (RECENT - 1);
    RecentRequest recent = recentRequests[slot];
    if (recent != null && recent.listener == listener && recent.protocol == protocol && recent.group == group) {
      return recent.meters;
    }
    RequestMeters m = requestMetersByMaps(listener, protocol, group);
    recentRequests[slot] = new RecentRequest(listener, protocol, group, m);
    return m;
  }

  private RequestMeters requestMetersByMaps(String listener, String protocol, String group) {
    ConcurrentHashMap<String, ConcurrentHashMap<String, RequestMeters>> byProtocol = requests.get(listener);
    if (byProtocol == null) {
      byProtocol = requests.computeIfAbsent(listener, k -> new ConcurrentHashMap<>());
    }
    ConcurrentHashMap<String, RequestMeters> byGroup = byProtocol.get(protocol);
    if (byGroup == null) {
      byGroup = byProtocol.computeIfAbsent(protocol, k -> new ConcurrentHashMap<>());
    }
    RequestMeters m = byGroup.get(group);
    if (m == null) {
      m = byGroup.computeIfAbsent(group, g -> newRequestMeters(listener, protocol, g));
    }
    return m;
  }

  private RequestMeters newRequestMeters(String listener, String protocol, String group) {
    PerThreadHistogram histogram = null;
    if (durations != null) {
      // One series per (listener, group), shared by protocols as the registry shared the timer.
      histogram = histograms.computeIfAbsent(List.of(group, listener), labels -> {
        io.micrometer.core.instrument.Clock clock = prometheus.config().clock();
        PerThreadHistogram h = new PerThreadHistogram(boundsNanos(), clock::monotonicTime, MAX_INTERVAL.toNanos(),
            MAX_WINDOWS);
        durations.add(List.of("group", "listener"), labels, h, clock.wallTime());
        return h;
      });
    }
    List<Timer> timers = new ArrayList<>(timerRegistries.size());
    for (MeterRegistry r : timerRegistries) {
      timers.add(latencyTimer(r, "mproxy_request_duration", DURATION_HELP, "listener", listener, "group", group));
    }
    return new RequestMeters(registry, listener, protocol, group, histogram, timers.toArray(new Timer[0]));
  }

  private static PrometheusMeterRegistry prometheusIn(MeterRegistry registry) {
    if (registry instanceof PrometheusMeterRegistry p) {
      return p;
    }
    if (registry instanceof CompositeMeterRegistry c) {
      for (MeterRegistry r : c.getRegistries()) {
        if (r instanceof PrometheusMeterRegistry p) {
          return p;
        }
      }
    }
    return null;
  }

  private static List<MeterRegistry> timerRegistries(MeterRegistry registry, PrometheusMeterRegistry prometheus) {
    if (prometheus == null) {
      return List.of(registry);
    }
    List<MeterRegistry> others = new ArrayList<>();
    if (registry instanceof CompositeMeterRegistry c) {
      for (MeterRegistry r : c.getRegistries()) {
        if (r != prometheus) {
          others.add(r);
        }
      }
    }
    return List.copyOf(others);
  }

  static long[] boundsNanos() {
    long[] b = new long[LATENCY_BUCKETS.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = LATENCY_BUCKETS[i].toNanos();
    }
    return b;
  }

  private GroupMeters groupMeters(String group) {
    int slot = group.hashCode() & (RECENT - 1);
    RecentGroup recent = recentGroups[slot];
    if (recent != null && recent.group == group) {
      return recent.meters;
    }
    GroupMeters m = groups.get(group);
    if (m == null) {
      m = groups.computeIfAbsent(group, g -> new GroupMeters(registry, g));
    }
    recentGroups[slot] = new RecentGroup(group, m);
    return m;
  }

  private Counter reloadCounter(String result) {
    return Counter.builder("mproxy_config_reloads")
        .description("Configuration reloads by result")
        .tag("result", result)
        .register(registry);
  }

  private static String label(String value) {
    return value == null ? "" : value;
  }

  static Timer latencyTimer(MeterRegistry registry, String name, String description, String... tags) {
    return Timer.builder(name)
        .description(description)
        .tags(tags)
        .serviceLevelObjectives(LATENCY_BUCKETS)
        .minimumExpectedValue(LATENCY_BUCKETS[0])
        .maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1])
        .register(registry);
  }

  /**
   * The meters of one (listener, protocol, group): a counter per outcome over per-thread counts,
   * the per-thread duration histogram (null without a Prometheus registry) and the Micrometer
   * timers of the other registries.
   */
  private static final class RequestMeters {
    /** Per thread: requests per outcome ordinal, written by that thread alone. */
    final PerThread<long[]> counts = new PerThread<>(() -> new long[OUTCOMES.length]);
    final PerThreadHistogram duration;
    final Timer[] timers;

    RequestMeters(MeterRegistry registry, String listener, String protocol, String group,
        PerThreadHistogram duration, Timer[] timers) {
      this.duration = duration;
      this.timers = timers;
      for (Outcome o : OUTCOMES) {
        int i = o.ordinal();
        FunctionCounter.builder("mproxy_requests", this, m -> m.total(i))
            .description("Requests by listener, protocol, resource group and outcome")
            .tags("listener", listener, "protocol", protocol, "group", group, "outcome", o.label())
            .register(registry);
      }
    }

    double total(int outcome) {
      long[] sum = {0};
      counts.forEach(c -> sum[0] += (long) LONGS.getAcquire(c, outcome));
      return sum[0];
    }
  }

  /**
   * The meters of one resource group. RU counters exist from the start; shed counters and
   * queue-wait histograms appear with their first event (most groups never shed or queue).
   */
  private static final class GroupMeters {
    final MeterRegistry registry;
    final String group;
    /** Per thread: RU charged, [0] read and [1] write, written by that thread alone. */
    final PerThread<double[]> ru = new PerThread<>(() -> new double[2]);
    final AtomicReferenceArray<Counter> shed = new AtomicReferenceArray<>(PRIORITIES.length * REASONS.length);
    final AtomicReferenceArray<Counter> wouldShed =
        new AtomicReferenceArray<>(PRIORITIES.length * REASONS.length);
    final AtomicReferenceArray<Timer> queueWait = new AtomicReferenceArray<>(PRIORITIES.length);

    GroupMeters(MeterRegistry registry, String group) {
      this.registry = registry;
      this.group = group;
      ruCounter("read", 0);
      ruCounter("write", 1);
    }

    Counter shed(Priority priority, ShedReason reason) {
      int i = priority.ordinal() * REASONS.length + reason.ordinal();
      Counter c = shed.get(i);
      if (c == null) {
        // Registration is idempotent: a racing thread gets the same counter from the registry.
        c = Counter.builder("mproxy_shed")
            .description("Requests refused before reaching a backend, by reason")
            .tags("group", group, "priority", priority.label(), "reason", reason.label())
            .register(registry);
        shed.set(i, c);
      }
      return c;
    }

    Counter wouldShed(Priority priority, ShedReason reason) {
      int i = priority.ordinal() * REASONS.length + reason.ordinal();
      Counter c = wouldShed.get(i);
      if (c == null) {
        c = Counter.builder("mproxy_would_shed")
            .description("Requests a shadow-mode limit or rule would have refused, by reason (admitted anyway)")
            .tags("group", group, "priority", priority.label(), "reason", reason.label())
            .register(registry);
        wouldShed.set(i, c);
      }
      return c;
    }

    Timer queueWait(Priority priority) {
      int i = priority.ordinal();
      Timer t = queueWait.get(i);
      if (t == null) {
        t = latencyTimer(registry, "mproxy_queue_wait", "Time requests waited for admission",
            "group", group, "priority", priority.label());
        queueWait.set(i, t);
      }
      return t;
    }

    private double ruTotal(int kind) {
      double[] sum = {0};
      ru.forEach(c -> sum[0] += (double) DOUBLES.getAcquire(c, kind));
      return sum[0];
    }

    private void ruCounter(String kind, int index) {
      FunctionCounter.builder("mproxy_ru", this, m -> m.ruTotal(index))
          .description("Resource Units charged, by resource group and kind")
          .tags("group", group, "kind", kind)
          .register(registry);
    }
  }

  private record RecentRequest(String listener, String protocol, String group, RequestMeters meters) {
  }

  private record RecentGroup(String group, GroupMeters meters) {
  }
}

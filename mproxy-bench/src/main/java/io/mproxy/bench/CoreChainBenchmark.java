package io.mproxy.bench;

import io.mproxy.core.admission.AdmissionCallback;
import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.Refusal;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Scheduler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request core chain as a Redis session drives it: build the {@link Request}, classify
 * the tenant, admit it against its group's RU bucket, mark it dispatched to a backend and
 * complete it (settlement, balancer feedback, fingerprint stats, telemetry). One op is one
 * request. Run with {@code -prof gc} for bytes allocated per request.
 *
 * <p>{@code rules} tenant rules match on the application name, rule {@code i} sending to group
 * {@code i % groups}; {@link #chain} and {@link #classify} cycle through one tenant per rule (so a
 * request scans {@code (rules + 1) / 2} rules on average) and alternate a GET (read) and a SET
 * (write). {@link #chainContended} runs two threads on the tenant of the last rule: one group,
 * one token bucket, one backend. Groups have a budget so large that admission never refuses.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class CoreChainBenchmark {

  private static final long GET_BYTES_IN = 31;
  private static final long GET_BYTES_OUT = 23;
  private static final long SET_BYTES_IN = 54;
  private static final long SET_BYTES_OUT = 5;
  private static final double UNLIMITED = 1e12;

  @Param({"1", "10", "100"})
  public int rules;

  @Param({"1", "16"})
  public int groups;

  @Param({"noop", "counting"})
  public String telemetry;

  private Gateway gateway;
  private TenantIdentity[] tenants;
  private TenantIdentity lastRuleTenant;
  private Backend backend;
  private Origin origin;
  private RuWeights weights;
  private Scheduler scheduler;
  private CountingTelemetry counting;

  /** Per-thread position in the tenant cycle and the callback that receives the ticket. */
  @State(Scope.Thread)
  public static class Cursor {
    int tenant;
    long seq;
    final TicketCatcher catcher = new TicketCatcher();
  }

  /** Keeps the ticket of an immediate admission; a refusal means the set-up is wrong. */
  static final class TicketCatcher implements AdmissionCallback {
    Ticket ticket;

    @Override
    public void admitted(Ticket t) {
      ticket = t;
    }

    @Override
    public void refused(Refusal refusal) {
      throw new IllegalStateException("refused: " + refusal.message());
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    Map<String, ResourceGroupConfig> groupConfigs = new LinkedHashMap<>();
    for (int g = 0; g < groups; g++) {
      String name = groupName(g);
      groupConfigs.put(name, new ResourceGroupConfig(name, UNLIMITED, UNLIMITED, Priority.NORMAL,
          ResourceGroupConfig.OnExhausted.REJECT, 0, 0, UNLIMITED));
    }
    List<TenantRule> tenantRules = new ArrayList<>();
    tenants = new TenantIdentity[rules];
    for (int i = 0; i < rules; i++) {
      tenantRules.add(new TenantRule(null, null, null, "app-" + i, groupName(i % groups), null, false));
      // A distinct String instance, as a decoded client name would be: equals() does the work.
      tenants[i] = new TenantIdentity("redis", null, null, new String(("app-" + i).toCharArray()));
    }
    lastRuleTenant = tenants[rules - 1];
    ProxyConfig config = new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(),
        Map.of(), groupConfigs, tenantRules);
    Telemetry t;
    if ("noop".equals(telemetry)) {
      t = Telemetry.NOOP;
    } else if ("counting".equals(telemetry)) {
      counting = new CountingTelemetry();
      t = counting;
    } else {
      throw new IllegalArgumentException("telemetry: " + telemetry + " (expected: noop|counting)");
    }
    gateway = new Gateway(config, SystemClock.INSTANCE, t, new FingerprintStore(10_000));
    backend = new Backend(new BackendConfig(new HostPort("127.0.0.1", 6379), BackendConfig.Role.PRIMARY),
        SystemClock.INSTANCE);
    origin = new Origin("redis", "redis");
    weights = RuWeights.DEFAULT;
    scheduler = new NoWaitScheduler();
  }

  @TearDown(Level.Trial)
  public void check() {
    if (backend.inflight() != 0) {
      throw new IllegalStateException("tickets left in flight: " + backend.inflight());
    }
    if (counting != null && counting.completed(Outcome.OK) != backend.completed()) {
      throw new IllegalStateException("counting telemetry saw " + counting.completed(Outcome.OK)
          + " requests, the backend " + backend.completed());
    }
  }

  private static String groupName(int g) {
    return g == 0 ? ResourceGroupConfig.DEFAULT_GROUP : "g" + g;
  }

  /** One request through classify, admit, dispatched and complete, cycling tenants. */
  @Benchmark
  public Ticket chain(Cursor c) {
    int i = c.tenant;
    c.tenant = i + 1 == tenants.length ? 0 : i + 1;
    return oneRequest(c, tenants[i]);
  }

  /** Classification alone, cycling tenants: the part that grows with the number of rules. */
  @Benchmark
  public Classification classify(Cursor c) {
    int i = c.tenant;
    c.tenant = i + 1 == tenants.length ? 0 : i + 1;
    return gateway.classify(tenants[i]);
  }

  /** The chain on two threads sharing one group's bucket and one backend. */
  @Benchmark
  @Threads(2)
  public Ticket chainContended(Cursor c) {
    return oneRequest(c, lastRuleTenant);
  }

  private Ticket oneRequest(Cursor c, TenantIdentity tenant) {
    boolean write = (c.seq++ & 1) == 1;
    Request request = write
        ? new Request(tenant, RequestKind.WRITE, "SET", "SET key:?", SET_BYTES_IN,
            SystemClock.INSTANCE.nanoTime(), true)
        : new Request(tenant, RequestKind.READ, "GET", "GET key:?", GET_BYTES_IN,
            SystemClock.INSTANCE.nanoTime(), true);
    Classification classification = gateway.classify(tenant);
    TicketCatcher catcher = c.catcher;
    gateway.admit(request, classification, origin, weights, scheduler, catcher);
    Ticket ticket = catcher.ticket;
    catcher.ticket = null;
    ticket.dispatched(backend);
    ticket.complete(Outcome.OK, write ? SET_BYTES_OUT : GET_BYTES_OUT);
    return ticket;
  }

  /** Admission never waits here (budgets are unlimited), so nothing may be scheduled. */
  private static final class NoWaitScheduler implements Scheduler {
    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
      throw new IllegalStateException("admission asked to wait " + delayNanos + " ns");
    }

    @Override
    public Cancellable scheduleAtFixedRate(Runnable task, long periodNanos) {
      throw new IllegalStateException("no periodic tasks in this benchmark");
    }
  }
}

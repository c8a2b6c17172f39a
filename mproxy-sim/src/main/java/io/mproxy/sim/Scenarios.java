package io.mproxy.sim;

import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.CodelConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.request.ShedReason;
import io.mproxy.sim.SimConfig.BackendSpec;
import io.mproxy.sim.SimConfig.Closed;
import io.mproxy.sim.SimConfig.GossipSpec;
import io.mproxy.sim.SimConfig.GroupSpec;
import io.mproxy.sim.SimConfig.Partition;
import io.mproxy.sim.SimConfig.ProxySpec;
import io.mproxy.sim.SimConfig.RetryPolicy;
import io.mproxy.sim.SimConfig.TenantSpec;
import io.mproxy.sim.SimConfig.Window;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The named scenarios {@code mproxy simulate} runs, in the order {@code --list} names them. */
public final class Scenarios {

  private static final List<Scenario> ALL = List.of(new NoisyNeighbour(), new RetryStorm(), new RunawayQuery(), new BackendCrash(),
      new SlowBackend(), new PartitionScenario(), new ThousandTenants(), new FleetScale());

  private Scenarios() {
  }

  public static List<Scenario> all() {
    return ALL;
  }

  public static Optional<Scenario> byName(String name) {
    return ALL.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  static ResourceGroupConfig reject(String name, double ruPerSec, double burst) {
    return new ResourceGroupConfig(name, ruPerSec, burst, Priority.NORMAL, ResourceGroupConfig.OnExhausted.REJECT,
        0, 0, burst);
  }

  static ResourceGroupConfig queue(String name, double ruPerSec, double burst, long maxQueueMs, int maxQueued) {
    return new ResourceGroupConfig(name, ruPerSec, burst, Priority.NORMAL, ResourceGroupConfig.OnExhausted.QUEUE,
        maxQueueMs, maxQueued, burst);
  }

  static GroupSpec local(ResourceGroupConfig c) {
    return new GroupSpec(c, false);
  }

  static double ms(long micros) {
    return micros / 1000.0;
  }

  /**
   * Goodput recovery: the first sample interval at or after {@code fromMs} from which the
   * goodput stays at or above {@code fraction} of {@code reference} per second for a full second.
   * Returns the milliseconds after {@code fromMs}, or -1 if it never does.
   */
  static long recoveryMs(Series goodput, long fromMs, double reference, double fraction, long untilMs) {
    long s = goodput.sampleMs();
    for (long t = fromMs; t + 1000 <= untilMs; t += s) {
      if (goodput.ratePerSec(t, t + 1000) >= fraction * reference) {
        return t - fromMs;
      }
    }
    return -1;
  }

  /** One tenant floods at five times the backend's capacity; the others must not notice. */
  static final class NoisyNeighbour implements Scenario {

    /**
     * Gateway-wide priority gate: 16 admitted requests in flight at most (the pool's max_size),
     * the rest wait by priority; CoDel sheds a queue's heads once they stay above 5 ms for 100 ms.
     */
    static final CodelConfig CODEL = new CodelConfig(5, 100, 16, 10_000, 1_000);

    @Override
    public String name() {
      return "noisy-neighbour";
    }

    @Override
    public String summary() {
      return "one tenant (LOW) floods at 5x the backend's capacity next to a HIGH and a NORMAL tenant";
    }

    @Override
    public SimConfig config(long seed) {
      return build(seed, true);
    }

    SimConfig build(long seed, boolean flood) {
      // capacity: 8 workers x ~4.5 ms mean service = ~1,770 requests/s
      BackendSpec db = BackendSpec.steady("db-1", 8, 4.0);
      double capacity = 8 / 4.53e-3;
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("checkout", 0, "checkout", 300).withPriority(Priority.HIGH),
          TenantSpec.open("search", 0, "search", 200),
          TenantSpec.open("flood", 0, "batch", flood ? 5 * capacity : 0).withPriority(Priority.LOW));
      return new SimConfig(name(), seed, 20_000, 3_000, 100, 1, List.of(db),
          List.of(local(reject("checkout", 3_000, 3_000)), local(reject("search", 2_000, 2_000)),
              local(reject("batch", 2_500, 2_500))),
          tenants, ProxySpec.DEFAULT.withCodel(CODEL), GossipSpec.lan(1), Map.of());
    }

    @Override
    public ScenarioRun run(long seed) {
      SimResult r = new Simulation(config(seed)).run();
      SimResult alone = new Simulation(build(seed, false)).run();
      return new ScenarioRun(this, seed, r, checks(r, alone), notes(alone));
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      return checks(r, new Simulation(build(seed, false)).run());
    }

    private List<Check> checks(SimResult r, SimResult alone) {
      TenantStats checkout = r.tenant("checkout");
      TenantStats search = r.tenant("search");
      TenantStats flood = r.tenant("flood");
      double p99 = ms(checkout.latency().quantileMicros(0.99));
      double p99Alone = ms(alone.tenant("checkout").latency().quantileMicros(0.99));
      return List.of(
          Check.atMost("checkout and search never shed", checkout.shedTotal() + search.shedTotal(), 0, ""),
          Check.atMost("checkout and search never fail",
              checkout.errors() + checkout.timeouts() + checkout.unavailable() + search.errors() + search.timeouts()
                  + search.unavailable(), 0, ""),
          Check.atLeast("flood shed (ru_limit) share of its attempts",
              (double) flood.shed(ShedReason.RU_LIMIT) / Math.max(1, flood.attempts()), 0.80, ""),
          Check.atMost("checkout p99 with the flood", p99, 250, " ms"),
          Check.atMost("checkout p99 with the flood / alone (issue 6: priority gate + CoDel)",
              p99 / Math.max(1e-9, p99Alone), 1.5, "x"),
          Check.atLeast("flood shed by CoDel (the gate's LOW queue overflowed its target)",
              flood.shed(ShedReason.CODEL), 1, ""),
          Check.atMost("backend utilisation", 100 * r.backends().get(0).utilisation(), 90, "%"));
    }

    private List<String> notes(SimResult alone) {
      TenantStats c = alone.tenant("checkout");
      return List.of(String.format(Locale.ROOT,
          "checkout alone (same seed, no flood): p50 %.2f ms, p99 %.2f ms, p999 %.2f ms",
          ms(c.latency().quantileMicros(0.5)), ms(c.latency().quantileMicros(0.99)),
          ms(c.latency().quantileMicros(0.999))));
    }
  }

  /**
   * A latency spike makes clients time out and retry. The priority gate at the backend's capacity
   * keeps the backlog (and the retries) in the proxy, where CoDel sheds it, so the backend never
   * holds more than its capacity and goodput is back as soon as the spike ends.
   */
  static final class RetryStorm implements Scenario {

    static final long SPIKE_START = 5_000;
    static final long SPIKE_END = 8_000;
    /**
     * The priority gate at the backend's capacity (8 workers): at most 8 admitted requests reach
     * it at once, the rest wait in the gate where CoDel sheds what goes stale, so the retries a
     * spike provokes queue in the proxy (and are shed there), not in the server.
     */
    static final CodelConfig GATE = new CodelConfig(5, 100, 8, 10_000, 1_000);

    @Override
    public String name() {
      return "retry-storm";
    }

    @Override
    public String summary() {
      return "backend latency x8 for 3 s; clients time out at 100 ms and retry (at once, with back-off, never)";
    }

    @Override
    public SimConfig config(long seed) {
      BackendSpec db = BackendSpec.steady("db-1", 8, 4.0).withSpikes(List.of(new Window(SPIKE_START, SPIKE_END, 8)));
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("retry-now", 0, "g-now", 500).withRetry(RetryPolicy.immediate(5), 100),
          TenantSpec.open("retry-backoff", 0, "g-backoff", 500).withRetry(RetryPolicy.backoff(5, 10, 1_000), 100),
          TenantSpec.open("no-retry", 0, "g-none", 200).withRetry(RetryPolicy.NONE, 100));
      return new SimConfig(name(), seed, 15_000, 5_000, 100, 1, List.of(db),
          List.of(local(reject("g-now", 2_500, 2_500)), local(reject("g-backoff", 2_500, 2_500)),
              local(reject("g-none", 1_000, 1_000))),
          tenants, ProxySpec.DEFAULT.withQueryTimeout(1_000).withCodel(GATE), GossipSpec.lan(1), Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      TenantStats now = r.tenant("retry-now");
      TenantStats backoff = r.tenant("retry-backoff");
      List<Check> checks = new ArrayList<>();
      int maxSize = r.config().proxy().pool().maxSize();
      checks.add(Check.atMost("backend outstanding requests (pool max_size bounds them)",
          r.backends().get(0).maxOutstanding(), maxSize, ""));
      checks.add(Check.atLeast("retry-now shed during the spike (CoDel in the gate)",
          now.shed(ShedReason.CODEL), 1, ""));
      SimResult.BackendStats db = r.backends().get(0);
      checks.add(Check.atMost("backend outstanding / capacity (issue 6: at most 1.1x)",
          (double) db.maxOutstanding() / db.capacity(), 1.1, "x"));
      for (TenantStats t : List.of(now, backoff, r.tenant("no-retry"))) {
        double before = t.goodput().ratePerSec(1_000, SPIKE_START);
        long rec = recoveryMs(t.goodput(), SPIKE_END, before, 0.9, r.config().durationMs());
        checks.add(Check.within(t.name() + " goodput back to 90% within 2 s of the spike's end (issue 6)", rec, 0,
            2_000, " ms"));
      }
      return checks;
    }

    @Override
    public List<String> notes(SimResult r, long seed) {
      List<String> notes = new ArrayList<>();
      notes.add("goodput (successful requests/s) per second, spike in [5 s, 8 s):");
      for (TenantStats t : r.tenants()) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-14s", t.name()));
        for (long s = 0; s < r.config().durationMs(); s += 1_000) {
          sb.append(String.format(Locale.ROOT, " %4.0f", t.goodput().ratePerSec(s, s + 1_000)));
        }
        notes.add(sb.toString());
      }
      return notes;
    }
  }

  /** One of two backends crashes and restarts; the pool reconnects without a connection swarm. */
  static final class BackendCrash implements Scenario {

    static final long CRASH = 5_000;
    static final long RESTART = 10_000;

    @Override
    public String name() {
      return "backend-crash";
    }

    @Override
    public String summary() {
      return "db-1 of two crashes at 5 s and restarts at 10 s; 150 closed-loop users retry with back-off";
    }

    @Override
    public SimConfig config(long seed) {
      BackendSpec b1 = BackendSpec.steady("db-1", 8, 4.0).withCrashes(List.of(new Window(CRASH, RESTART, 0)));
      BackendSpec b2 = BackendSpec.steady("db-2", 8, 4.0);
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("web", 0, "web", 0).withArrival(new Closed(150, 100))
              .withRetry(RetryPolicy.backoff(4, 20, 500), 0),
          TenantSpec.open("batch", 0, "batch", 300).withPriority(Priority.LOW));
      return new SimConfig(name(), seed, 20_000, 3_000, 100, 1, List.of(b1, b2),
          List.of(local(reject("web", 20_000, 20_000)), local(reject("batch", 3_000, 3_000))),
          tenants, ProxySpec.DEFAULT, GossipSpec.lan(1), Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      TenantStats web = r.tenant("web");
      SimResult.BackendStats db1 = r.backends().get(0);
      double before = web.goodput().ratePerSec(1_000, CRASH);
      double during = web.goodput().ratePerSec(CRASH + 1_000, RESTART);
      long[] perBackend = {db1.dispatched(), r.backends().get(1).dispatched()};
      int maxOpens = r.config().proxy().pool().maxOpensPerSec();
      return List.of(
          Check.atLeast("web goodput while db-1 is down / before", during / before, 0.90, ""),
          Check.atMost("proxy timeouts (failures are fast, not hangs)", web.timeouts() + r.tenant("batch").timeouts(),
              0, ""),
          Check.atMost("web requests that gave up", web.gaveUp(), web.requests() * 0.001, ""),
          Check.atMost("db-1 connection opens in any second (no swarm on restart)", db1.maxOpensPerSecond(),
              maxOpens, ""),
          Check.atLeast("db-1 serves again after the restart (its share of all dispatches)",
              (double) perBackend[0] / (perBackend[0] + perBackend[1]), 0.25, ""));
    }

    @Override
    public List<String> notes(SimResult r, long seed) {
      TenantStats web = r.tenant("web");
      StringBuilder sb = new StringBuilder("web goodput per second (crash in [5 s, 10 s)):");
      for (long s = 0; s < r.config().durationMs(); s += 1_000) {
        sb.append(String.format(Locale.ROOT, " %.0f", web.goodput().ratePerSec(s, s + 1_000)));
      }
      return List.of(sb.toString());
    }
  }

  /**
   * One tenant's query shape runs ~40x longer than the rest (a report scanning a table). A
   * runaway rule names that fingerprint and cancels any of its requests still running after
   * 50 ms: each is acted on within one tick ({@code ru_tick_ms}, 100 ms) of crossing the
   * threshold, and the other tenant's requests are never touched.
   */
  static final class RunawayQuery implements Scenario {

    static final long ELAPSED_MS = 50;
    static final io.mproxy.core.config.RunawayRule RULE = new io.mproxy.core.config.RunawayRule("report-cancel",
        "report:read", null, 0, ELAPSED_MS, io.mproxy.core.config.RunawayRule.Action.CANCEL, 0, 10_000,
        io.mproxy.core.config.RunawayRule.Mode.ENFORCE);

    @Override
    public String name() {
      return "runaway";
    }

    @Override
    public String summary() {
      return "one tenant's query shape runs ~40x longer; a cancel rule stops it past 50 ms";
    }

    @Override
    public SimConfig config(long seed) {
      return build(seed, true);
    }

    SimConfig build(long seed, boolean rule) {
      BackendSpec db = BackendSpec.steady("db-1", 8, 4.0);
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("app", 0, "app", 600).withRetry(RetryPolicy.NONE, 0),
          TenantSpec.open("report", 0, "report", 20).withCost(40).withWriteFraction(0)
              .withRetry(RetryPolicy.NONE, 0));
      ProxySpec proxy = ProxySpec.DEFAULT.withQueryTimeout(10_000);
      if (rule) {
        proxy = proxy.withRunaway(new io.mproxy.core.config.RunawayConfig(List.of(RULE)));
      }
      return new SimConfig(name(), seed, 10_000, 3_000, 100, 1, List.of(db),
          List.of(local(reject("app", 100_000, 100_000)), local(reject("report", 100_000, 100_000))),
          tenants, proxy, GossipSpec.lan(1), Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      TenantStats app = r.tenant("app");
      TenantStats report = r.tenant("report");
      long tickMs = r.config().proxy().ruTickMs();
      double boundMs = ELAPSED_MS + tickMs;
      List<Check> checks = new ArrayList<>();
      checks.add(Check.atLeast("report requests cancelled by the rule", report.cancelled(), 1, ""));
      checks.add(Check.atMost("longest a report request ran before its cancel (<= elapsed_ms_above + one tick)",
          report.maxElapsedAtCancelNanos() / 1e6, boundMs, " ms"));
      checks.add(Check.atMost("longest any report request ran on the backend (acted on within one tick)",
          report.maxRunNanos() / 1e6, boundMs, " ms"));
      checks.add(Check.atMost("app requests cancelled or failed", app.cancelled() + app.errors() + app.timeouts(), 0,
          ""));
      return checks;
    }
  }

  /** One backend stops answering without closing anything: the slow failure. */
  static final class SlowBackend implements Scenario {

    static final long HANG = 5_000;

    @Override
    public String name() {
      return "slow-backend";
    }

    @Override
    public String summary() {
      return "db-2 of two stops answering at 5 s (connections stay open, nothing comes back)";
    }

    @Override
    public SimConfig config(long seed) {
      BackendSpec b1 = BackendSpec.steady("db-1", 8, 4.0);
      BackendSpec b2 = BackendSpec.steady("db-2", 8, 4.0).withHangs(List.of(new Window(HANG, 1_000_000, 0)));
      PoolConfig pool = new PoolConfig("transaction", 2, 16, 50, 60_000, 500, 1_000);
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("app", 0, "app", 1_000).withRetry(RetryPolicy.backoff(3, 20, 200), 0));
      return new SimConfig(name(), seed, 20_000, 4_000, 100, 1, List.of(b1, b2),
          List.of(local(reject("app", 20_000, 20_000))), tenants,
          ProxySpec.DEFAULT.withPool(pool).withQueryTimeout(500), GossipSpec.lan(1), Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      TenantStats app = r.tenant("app");
      double before = app.goodput().ratePerSec(1_000, HANG);
      double after = app.goodput().ratePerSec(HANG + 3_000, r.config().durationMs());
      long timeout = r.config().proxy().queryTimeoutMs();
      return List.of(
          Check.atLeast("timeouts ended by the proxy (the hang was noticed)", app.timeouts(), 1, ""),
          Check.atMost("proxy timeouts (bound: 8 x pool max_size)", app.timeouts(), 8 * 16, ""),
          Check.atLeast("goodput from 8 s on / before the hang", after / before, 0.93, ""),
          Check.atMost("p999 latency (every request answered in bounded time)", ms(app.latency().quantileMicros(0.999)),
              3 * timeout, " ms"),
          Check.atMost("requests that gave up", app.gaveUp(), app.requests() * 0.002, ""));
    }

    @Override
    public List<String> notes(SimResult r, long seed) {
      TenantStats app = r.tenant("app");
      StringBuilder sb = new StringBuilder("app goodput per second (db-2 hangs from 5 s):");
      for (long s = 0; s < r.config().durationMs(); s += 1_000) {
        sb.append(String.format(Locale.ROOT, " %.0f", app.goodput().ratePerSec(s, s + 1_000)));
      }
      return List.of(sb.toString());
    }
  }

  /** Three proxy nodes share one budget over gossip; a partition isolates one of them. */
  static final class PartitionScenario implements Scenario {

    static final double GLOBAL = 3_000;
    static final long CUT = 10_000;
    static final long HEAL = 20_000;

    @Override
    public String name() {
      return "partition";
    }

    @Override
    public String summary() {
      return "3 nodes share a 3,000 RU/s group; demand 1:2:0; node0 is cut off from 10 s to 20 s";
    }

    @Override
    public SimConfig config(long seed) {
      BackendSpec db = BackendSpec.steady("db-1", 64, 2.0);
      ResourceGroupConfig fleet = reject("fleet", GLOBAL, 300);
      List<TenantSpec> tenants = List.of(
          TenantSpec.open("a", 0, "fleet", 800),
          TenantSpec.open("b", 1, "fleet", 1_600),
          TenantSpec.open("c", 2, "fleet", 5));
      GossipSpec gossip = GossipSpec.lan(3).withPartitions(List.of(new Partition(CUT, HEAL, Set.of(0))));
      return new SimConfig(name(), seed, 30_000, 2_000, 100, 3, List.of(db), List.of(new GroupSpec(fleet, true)),
          tenants, ProxySpec.DEFAULT, gossip, Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      double steady = r.fleetRuPerSec("fleet", 5_000, CUT);
      double cut = r.fleetRuPerSec("fleet", CUT + 2_000, HEAL);
      double isolated = r.ru(0, "fleet").ratePerSec(CUT + 2_000, HEAL);
      double healed = r.fleetRuPerSec("fleet", HEAL + 3_000, 30_000);
      double a = r.ru(0, "fleet").ratePerSec(5_000, CUT);
      double b = r.ru(1, "fleet").ratePerSec(5_000, CUT);
      return List.of(
          Check.within("fleet RU/s before the partition", steady, 0.9 * GLOBAL, 1.1 * GLOBAL, ""),
          Check.within("node1 / node0 RU/s before the partition (demand 2:1)", b / a, 1.6, 2.4, ""),
          Check.atMost("isolated node0 RU/s (fallback = global / 3)", isolated, 1.1 * GLOBAL / 3, ""),
          Check.atMost("fleet RU/s during the partition (fallback overshoot)", cut, 1.1 * GLOBAL * 4 / 3, ""),
          Check.within("fleet RU/s 3 s after healing", healed, 0.9 * GLOBAL, 1.1 * GLOBAL, ""));
    }

    @Override
    public List<String> notes(SimResult r, long seed) {
      List<String> notes = new ArrayList<>();
      notes.add("share rule: io.mproxy.core.share.ShareCalculator (floor 5% of an equal split, fallback global/3)");
      notes.add("admitted RU/s per second (fleet = node0 + node1 + node2), partition in [10 s, 20 s):");
      for (int n = 0; n < 3; n++) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  node%d", n));
        for (long s = 0; s < 30_000; s += 1_000) {
          sb.append(String.format(Locale.ROOT, " %4.0f", r.ru(n, "fleet").ratePerSec(s, s + 1_000)));
        }
        notes.add(sb.toString());
      }
      StringBuilder sb = new StringBuilder("  fleet");
      for (long s = 0; s < 30_000; s += 1_000) {
        sb.append(String.format(Locale.ROOT, " %4.0f", r.fleetRuPerSec("fleet", s, s + 1_000)));
      }
      notes.add(sb.toString());
      return notes;
    }
  }

  /** A thousand tenants with Zipf-skewed demand and tiered budgets on four backends. */
  static final class ThousandTenants implements Scenario {

    static final int TENANTS = 1_000;

    @Override
    public String name() {
      return "thousand-tenants";
    }

    @Override
    public String summary() {
      return "1,000 tenants (starting over 5 s), Zipf(1.0) demand ~1.2x the capacity of 4 backends, tiered budgets";
    }

    @Override
    public SimConfig config(long seed) {
      List<BackendSpec> dbs = new ArrayList<>();
      for (int b = 1; b <= 4; b++) {
        dbs.add(BackendSpec.steady("db-" + b, 16, 4.0));
      }
      double capacity = 4 * 16 / 4.53e-3;
      double harmonic = 0;
      for (int i = 1; i <= TENANTS; i++) {
        harmonic += 1.0 / i;
      }
      SimRandom shuffle = new SimRandom(seed).derive("thousand-tenants/mix");
      List<GroupSpec> groups = new ArrayList<>();
      List<TenantSpec> tenants = new ArrayList<>();
      for (int i = 0; i < TENANTS; i++) {
        String name = String.format(Locale.ROOT, "t%04d", i);
        double rate = 1.2 * capacity / harmonic / (i + 1);
        double quota = i < 10 ? 2_000 : i < 100 ? 150 : 30;
        Priority p = i < 10 ? Priority.HIGH : i < 100 ? Priority.NORMAL : Priority.LOW;
        groups.add(local(reject(name, quota, Math.max(20, quota / 2))));
        long start = (long) (shuffle.nextDouble() * 5_000);
        TenantSpec t = TenantSpec.open(name, 0, name, rate).withPriority(p).during(start, Long.MAX_VALUE);
        if (shuffle.chance(0.2)) {
          t = t.withCost(2.0);
        }
        tenants.add(t);
      }
      PoolConfig pool = new PoolConfig("transaction", 2, 32, 100, 60_000, 1_000, 1_000);
      return new SimConfig(name(), seed, 20_000, 3_000, 100, 1, dbs, groups, tenants,
          ProxySpec.DEFAULT.withPool(pool).withScore(BalancerConfig.Score.LEAST_INFLIGHT), GossipSpec.lan(1),
          Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      SimConfig c = r.config();
      double seconds = c.durationMs() / 1000.0;
      long underShed = 0;
      long underAttempts = 0;
      LatencyHistogram under = new LatencyHistogram();
      for (int i = 0; i < TENANTS; i++) {
        TenantStats t = r.tenants().get(i);
        double quota = c.groups().get(i).config().ruPerSec();
        double ruRate = t.ru() / seconds;
        if (ruRate < 0.5 * quota) {
          underShed += t.shedTotal();
          underAttempts += t.attempts();
          under.add(t.latency());
        }
      }
      TenantStats top = r.tenants().get(0);
      double util = 0;
      for (SimResult.BackendStats b : r.backends()) {
        util += b.utilisation() / r.backends().size();
      }
      return List.of(
          Check.atMost("shed share of tenants using < 50% of their budget", (double) underShed / underAttempts,
              0.02, ""),
          Check.atMost("p99 of tenants using < 50% of their budget", ms(under.quantileMicros(0.99)), 50, " ms"),
          Check.atLeast("shed share of the busiest tenant (over its budget)",
              (double) top.shedTotal() / top.attempts(), 0.5, ""),
          Check.within("mean backend utilisation", 100 * util, 40, 95, "%"));
    }
  }

  /**
   * A hundred proxy nodes share one budget over a lossy gossip network while demand moves from
   * one half of the fleet to the other: the share computation's overshoot and convergence at
   * fleet scale (the simulation part of the gossip issue).
   */
  static final class FleetScale implements Scenario {

    static final int NODES = 100;
    static final double GLOBAL = 10_000;
    static final long OVERLAP = 10_000;
    static final long SHIFT = 15_000;
    static final long END = 30_000;

    @Override
    public String name() {
      return "fleet-100";
    }

    @Override
    public String summary() {
      return "100 nodes share a 10,000 RU/s group over gossip (5 ms delay, 10% loss); demand moves "
          + "from nodes 0-49 to 50-99";
    }

    @Override
    public SimConfig config(long seed) {
      List<BackendSpec> dbs = new ArrayList<>();
      for (int b = 1; b <= 4; b++) {
        dbs.add(BackendSpec.steady("db-" + b, 64, 2.0));
      }
      // 50 busy nodes each asking 1.5x an equal split of the budget (~2.6 RU per request)
      double perNode = 1.5 * GLOBAL / 50 / 2.6;
      List<TenantSpec> tenants = new ArrayList<>();
      for (int n = 0; n < NODES; n++) {
        TenantSpec t = TenantSpec.open(String.format(Locale.ROOT, "n%02d", n), n, "fleet", perNode);
        tenants.add(n < NODES / 2 ? t.during(0, SHIFT) : t.during(OVERLAP, END));
      }
      GossipSpec gossip = new GossipSpec(200, 1_000, NODES, 5.0, 0.10, List.of());
      return new SimConfig(name(), seed, END, 2_000, 100, NODES, dbs,
          List.of(new GroupSpec(reject("fleet", GLOBAL, 1_000), true)), tenants, ProxySpec.DEFAULT, gossip,
          Map.of());
    }

    @Override
    public List<Check> checks(SimResult r, long seed) {
      double steady = r.fleetRuPerSec("fleet", 5_000, OVERLAP);
      double peak = 0;
      for (long s = 1_000; s < END; s += 1_000) {
        peak = Math.max(peak, r.fleetRuPerSec("fleet", s, s + 1_000));
      }
      long converged = -1;
      for (long t = SHIFT; t + 1_000 <= END; t += 100) {
        double rate = r.fleetRuPerSec("fleet", t, t + 1_000);
        if (rate >= 0.9 * GLOBAL && rate <= 1.1 * GLOBAL) {
          converged = t - SHIFT;
          break;
        }
      }
      double late = r.fleetRuPerSec("fleet", SHIFT + 5_000, END);
      return List.of(
          Check.within("fleet RU/s with nodes 0-49 busy", steady, 0.9 * GLOBAL, 1.1 * GLOBAL, ""),
          Check.atMost("highest fleet RU/s in any second after the first (overshoot)", peak, 1.15 * GLOBAL, ""),
          Check.within("time from the demand shift to fleet RU/s within 10% of the budget", converged, 0, 5_000,
              " ms"),
          Check.within("fleet RU/s with nodes 50-99 busy", late, 0.9 * GLOBAL, 1.1 * GLOBAL, ""),
          Check.atLeast("gossip messages lost (the network is lossy)", r.gossipLost(), 1, ""));
    }

    @Override
    public List<String> notes(SimResult r, long seed) {
      List<String> notes = new ArrayList<>();
      notes.add("share rule: io.mproxy.core.share.ShareCalculator; nodes 0-49 busy in [0 s, 15 s), "
          + "nodes 50-99 in [10 s, 30 s)");
      StringBuilder sb = new StringBuilder("fleet admitted RU/s per second:");
      for (long s = 0; s < END; s += 1_000) {
        sb.append(String.format(Locale.ROOT, " %.0f", r.fleetRuPerSec("fleet", s, s + 1_000)));
      }
      notes.add(sb.toString());
      return notes;
    }
  }
}

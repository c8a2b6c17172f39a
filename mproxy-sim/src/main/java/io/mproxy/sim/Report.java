package io.mproxy.sim;

import io.mproxy.core.request.ShedReason;
import io.mproxy.sim.SimConfig.TenantSpec;
import io.mproxy.sim.SimResult.BackendStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Renders a scenario run as plain text: the per-tenant table (offered load, admitted, shed by
 * reason, RU, latency percentiles, share of backend capacity used), the backends, the fleet
 * shares, the scenario's notes and checks, and the event-log hash. Only virtual quantities
 * appear, so one seed renders byte for byte the same.
 */
public final class Report {

  /** Above this many tenants the table shows the busiest and one row for the rest. */
  static final int MAX_ROWS = 20;
  private static final int TOP = 10;

  private Report() {
  }

  public static String render(ScenarioRun run) {
    SimResult r = run.result();
    SimConfig c = r.config();
    StringBuilder sb = new StringBuilder(4096);
    line(sb, "scenario %s  seed %d", run.scenario().name(), run.seed());
    line(sb, "%s", run.scenario().summary());
    line(sb, "virtual time %.1f s (+%.1f s drain); %d proxy node%s, %d backend%s, %d tenant%s",
        c.durationMs() / 1000.0, c.drainMs() / 1000.0, c.nodes(), c.nodes() == 1 ? "" : "s",
        c.backends().size(), c.backends().size() == 1 ? "" : "s", c.tenants().size(),
        c.tenants().size() == 1 ? "" : "s");
    sb.append('\n');
    tenantTable(sb, r);
    sb.append('\n');
    backendTable(sb, r);
    if (c.nodes() > 1) {
      sb.append('\n');
      fleet(sb, r);
    }
    if (!run.notes().isEmpty()) {
      sb.append('\n');
      for (String n : run.notes()) {
        sb.append(n).append('\n');
      }
    }
    sb.append('\n');
    for (Check k : run.checks()) {
      String verdict = k.asserted() ? (k.passed() ? "check ok    " : "check FAIL  ")
          : (k.passed() ? "target met  " : "target miss ");
      line(sb, "%s%s: %s", verdict, k.name(), k.detail());
    }
    Invariants inv = r.invariants();
    line(sb, "invariants: %d checked, %d violated", inv.checks(), inv.violations());
    for (String v : inv.firstViolations()) {
      line(sb, "  violated: %s", v);
    }
    line(sb, "events %d; event log %d entries, hash %016x", r.events(), r.logCount(), r.logHash());
    line(sb, "result: %s", run.passed() ? "PASS" : "FAIL");
    return sb.toString();
  }

  private static void tenantTable(StringBuilder sb, SimResult r) {
    SimConfig c = r.config();
    List<ShedReason> reasons = new ArrayList<>();
    for (ShedReason reason : ShedReason.values()) {
      if (r.tenants().stream().anyMatch(t -> t.shed(reason) > 0)) {
        reasons.add(reason);
      }
    }
    if (reasons.isEmpty()) {
      reasons.add(ShedReason.RU_LIMIT);
    }
    double seconds = c.durationMs() / 1000.0;
    double capacityNanos = 0;
    for (SimConfig.BackendSpec b : c.backends()) {
      capacityNanos += b.capacity() * (c.endMs() / 1000.0) * 1e9;
    }
    StringBuilder h = new StringBuilder();
    h.append(String.format(Locale.ROOT, "%-16s %-6s %9s %9s %9s %9s", "tenant", "prio", "req/s", "attempts",
        "admitted", "ok"));
    for (ShedReason reason : reasons) {
      h.append(' ').append(pad("shed:" + reason.label(), width(reason)));
    }
    h.append(String.format(Locale.ROOT, " %7s %7s %7s %8s %10s %8s %8s %8s %6s", "unavail", "error", "timeout",
        "gave_up", "RU", "p50_ms", "p99_ms", "p999_ms", "util%"));
    sb.append(h).append('\n');
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < r.tenants().size(); i++) {
      order.add(i);
    }
    boolean many = order.size() > MAX_ROWS;
    if (many) {
      order.sort(Comparator.comparingLong((Integer i) -> -r.tenants().get(i).requests()).thenComparing(i -> i));
    }
    int shown = many ? TOP : order.size();
    for (int k = 0; k < shown; k++) {
      int i = order.get(k);
      TenantSpec spec = c.tenants().get(i);
      row(sb, spec.name(), spec.priority().label(), r.tenants().get(i), reasons, seconds, capacityNanos);
    }
    if (many) {
      TenantStats rest = new TenantStats("rest", c.sampleMs(), c.endMs());
      for (int k = shown; k < order.size(); k++) {
        rest.add(r.tenants().get(order.get(k)));
      }
      row(sb, "(" + (order.size() - shown) + " others)", "-", rest, reasons, seconds, capacityNanos);
    }
    if (order.size() > 1) {
      TenantStats all = new TenantStats("all", c.sampleMs(), c.endMs());
      for (TenantStats t : r.tenants()) {
        all.add(t);
      }
      row(sb, "(all)", "-", all, reasons, seconds, capacityNanos);
    }
  }

  private static void row(StringBuilder sb, String name, String prio, TenantStats t, List<ShedReason> reasons,
      double seconds, double capacityNanos) {
    sb.append(String.format(Locale.ROOT, "%-16s %-6s %9.1f %9d %9d %9d", name, prio, t.requests() / seconds,
        t.attempts(), t.admitted(), t.ok()));
    for (ShedReason reason : reasons) {
      sb.append(' ').append(pad(Long.toString(t.shed(reason)), width(reason)));
    }
    sb.append(String.format(Locale.ROOT, " %7d %7d %7d %8d %10.0f %8s %8s %8s %6.1f", t.unavailable(), t.errors(),
        t.timeouts(), t.gaveUp(), t.ru(), ms(t.latency().quantileMicros(0.50)), ms(t.latency().quantileMicros(0.99)),
        ms(t.latency().quantileMicros(0.999)), 100.0 * t.busyNanos() / capacityNanos));
    sb.append('\n');
  }

  private static int width(ShedReason reason) {
    return Math.max(9, 5 + reason.label().length());
  }

  private static String pad(String s, int width) {
    return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%.2f", micros / 1000.0);
  }

  private static void backendTable(StringBuilder sb, SimResult r) {
    line(sb, "%-12s %8s %6s %15s %10s %7s %11s %7s", "backend", "capacity", "util%", "max_outstanding",
        "dispatched", "opens", "max_opens/s", "crashes");
    for (BackendStats b : r.backends()) {
      line(sb, "%-12s %8d %6.1f %15d %10d %7d %11d %7d", b.name(), b.capacity(), 100 * b.utilisation(),
          b.maxOutstanding(), b.dispatched(), b.opens(), b.maxOpensPerSecond(), b.crashes());
    }
  }

  private static void fleet(StringBuilder sb, SimResult r) {
    SimConfig c = r.config();
    line(sb, "fleet: gossip %d messages sent, %d lost; shares at the end (RU/s):", r.gossipSent(), r.gossipLost());
    for (SimConfig.GroupSpec g : c.groups()) {
      if (!g.fleetShared()) {
        continue;
      }
      StringBuilder s = new StringBuilder();
      if (c.nodes() <= 10) {
        for (int n = 0; n < c.nodes(); n++) {
          s.append(String.format(Locale.ROOT, " node%d=%.0f", n, r.share(n, g.config().name())));
        }
      } else {
        double sum = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int n = 0; n < c.nodes(); n++) {
          double v = r.share(n, g.config().name());
          sum += v;
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        s.append(String.format(Locale.ROOT, " sum=%.0f min=%.0f max=%.0f over %d nodes", sum, min, max, c.nodes()));
      }
      line(sb, "  group %s (global %.0f):%s", g.config().name(), g.config().ruPerSec(), s);
    }
  }

  private static void line(StringBuilder sb, String format, Object... args) {
    sb.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}

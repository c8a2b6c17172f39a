package io.mproxy.server.demo;

import java.util.List;
import java.util.Locale;

/**
 * Renders the demo's live table: one row per tenant with what its clients saw (answered and
 * refused per second, p99 latency of the answered) next to what the proxy charged its group (RU/s
 * against the limit, refusals so far). Pure text, so it is tested without a terminal.
 */
public final class DemoTable {

  /** The one-line explanation printed above the table. */
  public static final String EXPLANATION =
      "Each tenant has an RU budget (resource units: backend time + bytes). mproxy refuses what is over budget"
          + " before it reaches the database,\nso the HIGH tenant keeps its latency while the LOW flood and the"
          + " runaway query are shed.";

  /** One tenant's row over the last refresh period. */
  public record Row(String tenant, String role, String group, double limitRuPerSec, double ruPerSec,
      double answeredPerSec, double refusedPerSec, double p99Millis, long refusedTotal, long failedTotal) {
  }

  private DemoTable() {
  }

  public static String render(List<Row> rows, double seconds, String dashboardUrl, String listener) {
    StringBuilder b = new StringBuilder(1024);
    b.append(String.format(Locale.ROOT, "mproxy demo  %.0fs  |  clients -> mproxy %s -> H2 (PostgreSQL protocol)"
        + "  |  dashboard %s  |  Ctrl-C stops%n", seconds, listener, dashboardUrl));
    b.append(EXPLANATION).append(System.lineSeparator()).append(System.lineSeparator());
    b.append(String.format(Locale.ROOT, "%-9s %-17s %-12s %10s %10s %11s %10s %9s %9s %7s%n",
        "tenant", "traffic", "group", "RU/s", "limit", "answered/s", "shed/s", "p99 ms", "shed", "errors"));
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "%-9s %-17s %-12s %10.1f %10.0f %11.1f %10.1f %9.1f %9d %7d%n",
          r.tenant(), r.role(), r.group(), r.ruPerSec(), r.limitRuPerSec(), r.answeredPerSec(),
          r.refusedPerSec(), r.p99Millis(), r.refusedTotal(), r.failedTotal()));
    }
    return b.toString();
  }
}

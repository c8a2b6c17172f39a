package io.mproxy.sim;

import java.util.Locale;

/** One asserted bound of a scenario: its name, whether it held, and the measured value. */
public record Check(String name, boolean passed, String detail, boolean asserted) {

  public Check(String name, boolean passed, String detail) {
    this(name, passed, detail, true);
  }

  /**
   * The same bound reported but not asserted: a goal a later change (e.g. the QoS issue) must
   * reach, shown as {@code target met} or {@code target missed}; it never fails the run.
   */
  public Check asTarget() {
    return new Check(name, passed, detail, false);
  }

  /** {@code measured <= bound}. */
  public static Check atMost(String name, double measured, double bound, String unit) {
    return new Check(name, measured <= bound, fmt(measured) + unit + " (bound <= " + fmt(bound) + unit + ")");
  }

  /** {@code measured >= bound}. */
  public static Check atLeast(String name, double measured, double bound, String unit) {
    return new Check(name, measured >= bound, fmt(measured) + unit + " (bound >= " + fmt(bound) + unit + ")");
  }

  /** {@code lo <= measured <= hi}. */
  public static Check within(String name, double measured, double lo, double hi, String unit) {
    return new Check(name, measured >= lo && measured <= hi,
        fmt(measured) + unit + " (bound " + fmt(lo) + ".." + fmt(hi) + unit + ")");
  }

  static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.format(Locale.ROOT, "%d", (long) v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 1 ? "%.2f" : "%.4f", v);
  }
}

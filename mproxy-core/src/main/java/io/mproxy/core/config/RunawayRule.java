package io.mproxy.core.config;

import java.util.Locale;

/**
 * One runaway-query rule ({@code runaway: { rules: [...] }}). A request matches when its group is
 * {@code group} (any when null) and its fingerprint's text or id is {@code fingerprint} (any when
 * null). A matching fingerprint whose completed request cost more than {@code ruAbove} RU, or
 * ran longer than {@code elapsedMsAbove} (judged while it still runs), is watched until
 * {@code cooldownMs} pass without another violation; a rule with a fingerprint and no threshold
 * watches that fingerprint always.
 *
 * @param ruAbove RU threshold; 0 = not judged
 * @param elapsedMsAbove elapsed-time threshold; 0 = not judged
 * @param throttleRuPerSec the watched fingerprint's own RU/s cap for {@code throttle}
 * @param mode {@code enforce} acts; {@code shadow} counts what it would have done
 */
public record RunawayRule(String name, String fingerprint, String group, double ruAbove, long elapsedMsAbove,
    Action action, double throttleRuPerSec, long cooldownMs, Mode mode) {

  /** What a watched fingerprint's requests get. */
  public enum Action {
    WATCH, DEMOTE, THROTTLE, REJECT, CANCEL;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Whether the rule acts or only counts. */
  public enum Mode {
    ENFORCE, SHADOW;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final long DEFAULT_COOLDOWN_MS = 60_000;

  public RunawayRule {
    mode = mode == null ? Mode.ENFORCE : mode;
    action = action == null ? Action.WATCH : action;
  }

  /**
   * True when the rule names a fingerprint and no threshold: that fingerprint is watched always.
   * (A rule with neither matches nothing; the config binder refuses it.)
   */
  public boolean always() {
    return fingerprint != null && ruAbove <= 0 && elapsedMsAbove <= 0;
  }

  public boolean enforced() {
    return mode == Mode.ENFORCE;
  }
}

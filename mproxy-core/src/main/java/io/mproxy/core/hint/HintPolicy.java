package io.mproxy.core.hint;

import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Request;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Decides what a request's hints change: nothing unless the tenant's rule has
 * {@code allow_hints}; then a priority overrides the classification's, a group that exists
 * replaces the classified group (an unknown one is ignored), and {@code timeout_ms} sets the
 * request's deadline from its arrival. A tenant whose hints are in shadow keeps its
 * classification and no deadline; the result says whether the hint would have applied. Pure: the
 * caller counts the result.
 */
public final class HintPolicy {

  /** What happened to a request's hints, for {@code mproxy_hints_total{result}}. */
  public enum Result {
    /** The request carried no hint. */
    NONE,
    /** At least part of the hint changed how the request is handled. */
    APPLIED,
    /** The hint was present but not honoured (tenant without allow_hints, or nothing usable). */
    IGNORED,
    /** The tenant's hints are in shadow ({@code allow_hints: shadow}): it would have applied. */
    SHADOW;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The classification to admit with and what happened to the hints. */
  public record Decision(Classification classification, Result result) {
  }

  private HintPolicy() {
  }

  /**
   * Applies {@code request}'s hints to {@code c}, setting the request's deadline when a timeout
   * is honoured.
   */
  public static Decision apply(Request request, Classification c, Predicate<String> groupExists) {
    QueryHints h = request.hints();
    if (h == null || (!h.present() && h.unknownKeys() == 0 && h.badValues() == 0)) {
      return new Decision(c, Result.NONE);
    }
    if (!c.allowHints() || !h.present()) {
      return new Decision(c, Result.IGNORED);
    }
    if (c.hintsShadow()) {
      boolean would = h.group() != null && groupExists.test(h.group()) || h.priority() != null
          || h.timeoutMs() > 0;
      return new Decision(c, would ? Result.SHADOW : Result.IGNORED);
    }
    boolean changed = false;
    String group = c.group();
    if (h.group() != null && groupExists.test(h.group())) {
      group = h.group();
      changed = true;
    }
    Priority priority = c.priority();
    if (h.priority() != null) {
      priority = h.priority();
      changed = true;
    }
    if (h.timeoutMs() > 0) {
      request.deadlineNanos(request.arrivalNanos() + TimeUnit.MILLISECONDS.toNanos(h.timeoutMs()));
      changed = true;
    }
    if (!changed) {
      return new Decision(c, Result.IGNORED);
    }
    return new Decision(new Classification(group, priority, true, c.ruleIndex()), Result.APPLIED);
  }
}

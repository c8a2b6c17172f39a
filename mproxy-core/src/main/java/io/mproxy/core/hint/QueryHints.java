package io.mproxy.core.hint;

import io.mproxy.core.config.Priority;

/**
 * What a client asked for in a query's magic comment (or Mongo {@code comment}, or a Redis
 * {@code MPROXY HINT}): a priority, a resource group, a timeout. Parsed once per request by the
 * protocol module and carried on the {@link io.mproxy.core.request.Request}; admission decides
 * whether the tenant may use them. Keys the parser did not know and values it could not read are
 * only counted, so a typo never fails a query.
 *
 * @param priority the requested priority, or null
 * @param group the requested resource group, or null (admission ignores an unknown group)
 * @param timeoutMs the requested per-query timeout in milliseconds, or 0 for none
 * @param unknownKeys how many keys were not understood
 * @param badValues how many known keys had a value that did not parse
 */
public record QueryHints(Priority priority, String group, long timeoutMs, int unknownKeys, int badValues) {

  /** No hint at all: what every request carries unless its text had one. */
  public static final QueryHints NONE = new QueryHints(null, null, 0, 0, 0);

  /** The longest {@code timeout_ms} honoured: a day. */
  public static final long MAX_TIMEOUT_MS = 86_400_000L;

  /** Whether a hint asks for anything (unknown keys alone ask for nothing). */
  public boolean present() {
    return priority != null || group != null || timeoutMs > 0;
  }

  /** These hints, with every field {@code later} sets taking precedence. */
  public QueryHints overriddenBy(QueryHints later) {
    if (later == null || later == NONE) {
      return this;
    }
    return new QueryHints(
        later.priority != null ? later.priority : priority,
        later.group != null ? later.group : group,
        later.timeoutMs > 0 ? later.timeoutMs : timeoutMs,
        unknownKeys + later.unknownKeys,
        badValues + later.badValues);
  }
}

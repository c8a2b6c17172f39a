package io.mproxy.core.request;

import io.mproxy.core.config.ListenerConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A listener's {@code query_timeout_ms}: the deadline every request without a hinted
 * {@code timeout_ms} gets, so that a backend that logs in and then stops answering cannot keep a
 * client waiting forever. PostgreSQL and MySQL have their own (they stop the statement on the
 * server); the protocols whose sessions end a request with the hinted-timeout mechanism (Redis,
 * MongoDB, Cassandra) read it here, so that the option means the same everywhere: an int ≥ 0 of
 * milliseconds, 0 (the default) for none, and a honoured hint's own timeout wins over it.
 */
public final class QueryTimeout {

  /** The listener option's name. */
  public static final String KEY = "query_timeout_ms";

  /** No listener deadline. */
  public static final QueryTimeout NONE = new QueryTimeout(0);

  private final long millis;

  private QueryTimeout(long millis) {
    this.millis = millis;
  }

  /** Reads {@value #KEY} from a listener's options; a bad value adds a problem and means none. */
  public static QueryTimeout parse(Map<String, Object> options, List<String> problems) {
    Object v = options.get(KEY);
    if (v == null) {
      return NONE;
    }
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && n.longValue() >= 0 && n.longValue() <= Integer.MAX_VALUE) {
      return n.longValue() == 0 ? NONE : new QueryTimeout(n.longValue());
    }
    problems.add(KEY + ": " + v + " (expected an integer 0.." + Integer.MAX_VALUE + ")");
    return NONE;
  }

  /** The listener's timeout; an invalid value (refused by validation before) means none. */
  public static QueryTimeout of(ListenerConfig listener) {
    return parse(listener.options(), new java.util.ArrayList<>());
  }

  public long millis() {
    return millis;
  }

  public boolean enabled() {
    return millis > 0;
  }

  /** Whether the request carries a honoured hinted timeout (which wins over this one). */
  public static boolean hinted(Request request) {
    return request.deadlineNanos() != 0;
  }

  /**
   * The absolute deadline of {@code request} on {@code clock}: its hinted one, else now plus this
   * timeout (plus {@code extraMillis} the request waits by design), else 0. The clock is read only
   * when a listener timeout applies, so requests without one pay no clock read.
   */
  public long deadlineNanos(Request request, io.mproxy.core.time.Clock clock, long extraMillis) {
    if (hinted(request)) {
      return request.deadlineNanos();
    }
    if (millis <= 0) {
      return 0;
    }
    return clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis + Math.max(0, extraMillis));
  }

  /** The setting that ended {@code request}, for the client's error: {@code timeout_ms=N} or {@code query_timeout_ms=N}. */
  public String setting(Request request) {
    return hinted(request) ? "timeout_ms=" + request.hints().timeoutMs() : KEY + "=" + millis;
  }

  @Override
  public String toString() {
    return KEY + "=" + millis;
  }
}

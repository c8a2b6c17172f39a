package io.mproxy.core.request;

import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.Priority;
import io.mproxy.core.hint.QueryHints;

/**
 * One client operation on its way through the core chain: a Redis command, a SQL statement,
 * a Mongo command, a CQL QUERY/EXECUTE/BATCH. The protocol module fills in what it decoded
 * (kind, fingerprint, bytes in); classification fills in group and priority. The raw frame
 * stays with the protocol module, which forwards it untouched.
 */
public final class Request {

  /** Before classification: no group yet, priority normal. */
  private static final Classification UNCLASSIFIED = new Classification(null, Priority.NORMAL, false, -1);

  private final TenantIdentity tenant;
  private final RequestKind kind;
  private final String command;
  private final String fingerprint;
  private final long bytesIn;
  private final long arrivalNanos;
  private final boolean latencyCharged;
  /**
   * Group and priority, as one reference to the classification admission already holds: one
   * field fewer on an object allocated for every request (64 bytes instead of 72).
   */
  private Classification classified = UNCLASSIFIED;
  private long deadlineNanos;
  private QueryHints hints = QueryHints.NONE;

  /**
   * @param command the operation's verb for logs and stats (e.g. {@code GET}, {@code SELECT})
   * @param latencyCharged false for operations that wait by design (BLPOP, WAIT, subscribe): their
   *     wait is not backend load, so it is not charged to the group's RU budget
   */
  public Request(TenantIdentity tenant, RequestKind kind, String command, String fingerprint,
      long bytesIn, long arrivalNanos, boolean latencyCharged) {
    this.tenant = tenant;
    this.kind = kind;
    this.command = command;
    this.fingerprint = fingerprint;
    this.bytesIn = bytesIn;
    this.arrivalNanos = arrivalNanos;
    this.latencyCharged = latencyCharged;
  }

  public TenantIdentity tenant() {
    return tenant;
  }

  public RequestKind kind() {
    return kind;
  }

  public String command() {
    return command;
  }

  public String fingerprint() {
    return fingerprint;
  }

  public long bytesIn() {
    return bytesIn;
  }

  public long arrivalNanos() {
    return arrivalNanos;
  }

  public boolean latencyCharged() {
    return latencyCharged;
  }

  public String group() {
    return classified.group();
  }

  public Priority priority() {
    return classified.priority();
  }

  /** Absolute deadline on the injected clock, or 0 when there is none. */
  public long deadlineNanos() {
    return deadlineNanos;
  }

  public void classify(String groupName, Priority p) {
    Classification c = classified;
    if (!java.util.Objects.equals(c.group(), groupName) || c.priority() != p) {
      classified = new Classification(groupName, p, false, -1);
    }
  }

  /**
   * Takes {@code c}'s group and priority (its other parts do not matter to a request). Admission
   * calls this with the classification it already has, so nothing is allocated.
   */
  public void classify(Classification c) {
    classified = c;
  }

  public void deadlineNanos(long d) {
    this.deadlineNanos = d;
  }

  /** What the client's magic comment (or pseudo-command) asked for; {@link QueryHints#NONE} if nothing. */
  public QueryHints hints() {
    return hints;
  }

  /** Attaches the hints the protocol module parsed; admission decides whether they count. */
  public Request hints(QueryHints h) {
    this.hints = h == null ? QueryHints.NONE : h;
    return this;
  }

  /** Whether a honoured timeout has a deadline that has passed at {@code now}. */
  public boolean pastDeadline(long now) {
    return deadlineNanos != 0 && now - deadlineNanos >= 0;
  }

  @Override
  public String toString() {
    return "Request[" + command + " kind=" + kind + " group=" + group() + " priority=" + priority()
        + " fp=" + fingerprint + " bytesIn=" + bytesIn + "]";
  }
}

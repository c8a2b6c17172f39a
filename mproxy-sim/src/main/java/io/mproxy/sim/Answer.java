package io.mproxy.sim;

import io.mproxy.core.request.ShedReason;

/**
 * What the proxy answered one attempt: success, a refusal by core (with its reason and
 * retry-after), or a failure after admission (no backend or connection, a backend error, the
 * proxy's query timeout).
 */
record Answer(Kind kind, ShedReason reason, long retryAfterMs) {

  enum Kind { OK, SHED, UNAVAILABLE, ERROR, TIMEOUT }

  static final Answer OK = new Answer(Kind.OK, null, -1);
  static final Answer UNAVAILABLE = new Answer(Kind.UNAVAILABLE, null, -1);
  static final Answer ERROR = new Answer(Kind.ERROR, null, -1);
  static final Answer TIMEOUT = new Answer(Kind.TIMEOUT, null, -1);

  static Answer shed(ShedReason reason, long retryAfterMs) {
    return new Answer(Kind.SHED, reason, retryAfterMs);
  }
}

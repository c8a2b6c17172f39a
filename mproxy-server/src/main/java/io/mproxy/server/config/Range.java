package io.mproxy.server.config;

/**
 * The allowed values of a numeric key, with integral bounds; {@link #toString()} is the
 * {@code expected:} part of a message ({@code > 0}, {@code >= 1}, {@code 0..65535}).
 */
record Range(long min, boolean minExclusive, long max) {

  static final long UNBOUNDED = Long.MAX_VALUE;

  static Range greaterThan(long min) {
    return new Range(min, true, UNBOUNDED);
  }

  static Range atLeast(long min) {
    return new Range(min, false, UNBOUNDED);
  }

  static Range between(long min, long max) {
    return new Range(min, false, max);
  }

  boolean contains(long value) {
    return (minExclusive ? value > min : value >= min) && value <= max;
  }

  boolean contains(double value) {
    return (minExclusive ? value > min : value >= min) && (max == UNBOUNDED || value <= max);
  }

  @Override
  public String toString() {
    if (max != UNBOUNDED) {
      return min + ".." + max;
    }
    return (minExclusive ? "> " : ">= ") + min;
  }
}

package io.mproxy.core.pool;

/** No connection could be had in time (all busy at max_size, or too many waiting). */
public final class PoolExhaustedException extends PoolException {

  private static final long serialVersionUID = 1L;

  public PoolExhaustedException(String backend, String reason) {
    super(backend, reason);
  }
}

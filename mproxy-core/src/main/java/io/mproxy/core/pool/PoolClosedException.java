package io.mproxy.core.pool;

/** The pool was closed (shutdown or the backend left the config). */
public final class PoolClosedException extends PoolException {

  private static final long serialVersionUID = 1L;

  public PoolClosedException(String backend) {
    super(backend, "pool closed");
  }
}

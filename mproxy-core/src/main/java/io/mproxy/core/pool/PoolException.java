package io.mproxy.core.pool;

/** Why a pool could not supply a connection; the message is safe to show to clients. */
public class PoolException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public PoolException(String message) {
    super(message, null, false, false);
  }
}

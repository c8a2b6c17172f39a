package io.mproxy.core.pool;

/** The backend could not be reached or refused the handshake. */
public final class BackendDownException extends PoolException {

  private static final long serialVersionUID = 1L;

  public BackendDownException(String backend, String reason) {
    super(backend, "unavailable: " + reason);
  }
}

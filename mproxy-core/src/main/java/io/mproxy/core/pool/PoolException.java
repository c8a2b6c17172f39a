package io.mproxy.core.pool;

/** Why a pool could not supply a connection. */
public class PoolException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String reason;

  /**
   * @param backend the backend's address, for logs only
   * @param reason what went wrong, without addresses: safe to show to clients
   */
  public PoolException(String backend, String reason) {
    super("backend " + backend + ": " + reason, null, false, false);
    this.reason = reason;
  }

  /** The reason without the backend's address (clients should not learn backend addresses). */
  public String reason() {
    return reason;
  }
}

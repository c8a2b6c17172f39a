package io.mproxy.core.pool;

/** A handshake or health probe took longer than allowed. */
public final class ProbeTimeoutException extends PoolException {

  private static final long serialVersionUID = 1L;

  public ProbeTimeoutException(String backend, long timeoutMs) {
    super(backend, "no answer within " + timeoutMs + " ms");
  }
}

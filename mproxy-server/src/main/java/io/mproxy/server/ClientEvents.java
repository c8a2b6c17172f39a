package io.mproxy.server;

/**
 * What the listener's accept path and login throttle report: connections refused or closed
 * before they logged in, and failed or blocked logins. The server counts them as
 * {@code mproxy_client_connections_refused_total{listener,reason}} and
 * {@code mproxy_auth_failures_total{listener,result}}; tests and embedders may pass {@link #NONE}.
 * Implementations are called on event loops and must be cheap and thread-safe.
 */
public interface ClientEvents {

  /** Why a connection was refused at accept, or closed before it completed its login. */
  enum RefusalReason {
    /** {@code max_client_connections} reached. */
    MAX_CONNECTIONS("max_connections"),
    /** {@code max_accepts_per_sec} exceeded. */
    ACCEPT_RATE("accept_rate"),
    /** The proxy is shutting down. */
    DRAINING("draining"),
    /** The login/handshake did not complete within {@code handshake_timeout_ms}. */
    HANDSHAKE_TIMEOUT("handshake_timeout");

    private final String label;

    RefusalReason(String label) {
      this.label = label;
    }

    /** The metric label value. */
    public String label() {
      return label;
    }
  }

  void connectionRefused(String listener, RefusalReason reason);

  /** A login failed (wrong password or unknown user) and was counted against its address. */
  void authFailed(String listener);

  /** A login attempt was refused unchecked because its address is blocked. */
  void authBlocked(String listener);

  ClientEvents NONE = new ClientEvents() {
    @Override
    public void connectionRefused(String listener, RefusalReason reason) {
    }

    @Override
    public void authFailed(String listener) {
    }

    @Override
    public void authBlocked(String listener) {
    }
  };
}

package io.mproxy.core.auth;

/**
 * A SCRAM exchange failed. Carries the RFC 5802 error so the protocol session can answer in its own
 * format (PostgreSQL ErrorResponse 28P01, MongoDB code 18) and so logs say which step failed; the
 * message is for logs only and never echoes secrets.
 */
public final class ScramException extends Exception {

  private static final long serialVersionUID = 1L;

  private final ScramError error;

  public ScramException(ScramError error, String message) {
    super(error.wire() + ": " + message);
    this.error = error;
  }

  public ScramError error() {
    return error;
  }

  /** The RFC 5802 server-final-message reporting this error: {@code e=<value>}. */
  public String serverFinalMessage() {
    return "e=" + error.wire();
  }
}

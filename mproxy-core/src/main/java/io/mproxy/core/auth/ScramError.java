package io.mproxy.core.auth;

/**
 * The RFC 5802 {@code server-error-value}s, with their wire spelling, so a failed exchange can be
 * reported to a SCRAM client as {@code e=<value>} and to logs by name.
 */
public enum ScramError {
  INVALID_ENCODING("invalid-encoding"),
  EXTENSIONS_NOT_SUPPORTED("extensions-not-supported"),
  INVALID_PROOF("invalid-proof"),
  CHANNEL_BINDINGS_DONT_MATCH("channel-bindings-dont-match"),
  SERVER_DOES_SUPPORT_CHANNEL_BINDING("server-does-support-channel-binding"),
  CHANNEL_BINDING_NOT_SUPPORTED("channel-binding-not-supported"),
  UNSUPPORTED_CHANNEL_BINDING_TYPE("unsupported-channel-binding-type"),
  UNKNOWN_USER("unknown-user"),
  INVALID_USERNAME_ENCODING("invalid-username-encoding"),
  NO_RESOURCES("no-resources"),
  OTHER_ERROR("other-error");

  private final String wire;

  ScramError(String wire) {
    this.wire = wire;
  }

  /** The value as written after {@code e=} on the wire. */
  public String wire() {
    return wire;
  }

  /** The error with this wire value; unknown values (the RFC allows extensions) are other-error. */
  public static ScramError fromWire(String value) {
    for (ScramError e : values()) {
      if (e.wire.equals(value)) {
        return e;
      }
    }
    return OTHER_ERROR;
  }
}

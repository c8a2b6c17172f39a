package io.mproxy.core.request;

/** What a request does, as far as metering and routing care. */
public enum RequestKind {
  READ, WRITE, TRANSACTION_CONTROL, SESSION, ADMIN;

  /** Writes pay the write formula; everything else pays the read formula. */
  public boolean chargedAsWrite() {
    return this == WRITE;
  }
}

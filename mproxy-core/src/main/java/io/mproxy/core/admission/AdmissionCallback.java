package io.mproxy.core.admission;

import io.mproxy.core.request.Refusal;

/** The answer of admission: exactly one of the two methods is called, once. */
public interface AdmissionCallback {

  /** The request may proceed; it must end with {@link Ticket#complete} exactly once. */
  void admitted(Ticket ticket);

  /** The request must be answered with the protocol's error carrying {@link Refusal#message()}. */
  void refused(Refusal refusal);
}

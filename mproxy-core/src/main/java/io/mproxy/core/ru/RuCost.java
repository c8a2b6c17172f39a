package io.mproxy.core.ru;

import io.mproxy.core.config.RuWeights;

/**
 * The Resource Unit formulas (pure math, no state):
 * <pre>
 * RU_read  = 1 + w_read  * bytes_read          + w_latency * latency_ms
 * RU_write = 6 + w_write * bytes_written / 4096 + w_latency * latency_ms
 * </pre>
 * Bytes read are the reply bytes; bytes written are the request bytes.
 */
public final class RuCost {

  public static final double READ_BASE = 1.0;
  public static final double WRITE_BASE = 6.0;
  public static final double WRITE_UNIT_BYTES = 4096.0;

  private RuCost() {
  }

  /** The full charge of a completed request. */
  public static double of(RuWeights w, boolean write, long bytesIn, long bytesOut, double latencyMs) {
    return bytesPart(w, write, bytesIn, bytesOut) + latency(w, latencyMs);
  }

  /** The charge without its latency term: base plus bytes. */
  public static double bytesPart(RuWeights w, boolean write, long bytesIn, long bytesOut) {
    return write
        ? WRITE_BASE + w.wWrite() * bytesIn / WRITE_UNIT_BYTES
        : READ_BASE + w.wRead() * bytesOut;
  }

  /** The latency term alone, charged while a request is in flight. */
  public static double latency(RuWeights w, double latencyMs) {
    return w.wLatency() * latencyMs;
  }

  /**
   * What admission charges before the reply is known: a write's base and request bytes are
   * known up front; a read's cost is the fingerprint's recent mean when there is one, else the base.
   */
  public static double estimate(RuWeights w, boolean write, long bytesIn, double fingerprintMean) {
    if (write) {
      return bytesPart(w, true, bytesIn, 0);
    }
    return fingerprintMean > 0 ? fingerprintMean : READ_BASE;
  }
}

package io.mproxy.core.config;

/**
 * Weights of the RU formulas, per backend cluster:
 * {@code RU_read = 1 + wRead * bytesRead + wLatency * latencyMs},
 * {@code RU_write = 6 + wWrite * bytesWritten / 4096 + wLatency * latencyMs}.
 */
public record RuWeights(double wRead, double wWrite, double wLatency) {

  /** 1 RU per KiB read, 1 RU per 4 KiB written, 0.5 RU per millisecond in flight. */
  public static final RuWeights DEFAULT = new RuWeights(1.0 / 1024.0, 1.0, 0.5);
}

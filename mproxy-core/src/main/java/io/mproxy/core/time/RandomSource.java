package io.mproxy.core.time;

/** Injected randomness: production draws from a thread-local source, simulations from a seed. */
public interface RandomSource {

  /** A uniformly distributed int in {@code [0, bound)}. */
  int nextInt(int bound);

  /** A uniformly distributed double in {@code [0, 1)}. */
  double nextDouble();
}

package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.security.SecureRandom;

/**
 * A {@link RandomSource} backed by {@link SecureRandom}, for nonces, salts and decoy secrets. The
 * daemon's general-purpose source (used for load balancing) is fast but predictable, which is fine
 * for picking backends and wrong for authentication.
 */
public final class SecureRandomSource implements RandomSource {

  private final SecureRandom random;

  public SecureRandomSource() {
    this(new SecureRandom());
  }

  public SecureRandomSource(SecureRandom random) {
    this.random = random;
  }

  @Override
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  @Override
  public double nextDouble() {
    return random.nextDouble();
  }
}

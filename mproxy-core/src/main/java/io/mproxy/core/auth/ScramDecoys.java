package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decoy credentials for users that do not exist, so a client cannot tell a missing user from a
 * wrong password: the exchange proceeds with a plausible salt and fails only at the proof. The salt
 * is a keyed hash of the user name under a secret drawn once, so asking twice about the same
 * missing user shows the same salt (a fresh random salt each time would give the user away), and
 * the keys are random, so no password matches. One instance per process (or per listener).
 */
public final class ScramDecoys {

  private final byte[] secret;
  private final int iterations;

  public ScramDecoys(RandomSource random) {
    this(random, ScramCredential.DEFAULT_ITERATIONS);
  }

  /** {@code iterations} should match what real users have, or it gives the decoy away. */
  public ScramDecoys(RandomSource random, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
    }
    this.secret = ScramCredential.randomBytes(random, 32);
    this.iterations = iterations;
  }

  /** The decoy credential for {@code username}: stable for the life of this instance. */
  public ScramCredential credentialFor(ScramMechanism mechanism, String username) {
    byte[] name = username.getBytes(StandardCharsets.UTF_8);
    byte[] mechanismName = mechanism.mechanismName().getBytes(StandardCharsets.US_ASCII);
    byte[] material = new byte[mechanismName.length + 1 + name.length];
    System.arraycopy(mechanismName, 0, material, 0, mechanismName.length);
    System.arraycopy(name, 0, material, mechanismName.length + 1, name.length);
    byte[] digest = ScramCrypto.hmac(ScramMechanism.SHA_256, secret, material);
    byte[] salt = Arrays.copyOf(digest, ScramCredential.DEFAULT_SALT_LENGTH);
    byte[] storedKey = ScramCrypto.hmac(mechanism, secret, ScramCrypto.CLIENT_KEY);
    byte[] serverKey = ScramCrypto.hmac(mechanism, secret, ScramCrypto.SERVER_KEY);
    return new ScramCredential(mechanism, salt, iterations, storedKey, serverKey);
  }
}

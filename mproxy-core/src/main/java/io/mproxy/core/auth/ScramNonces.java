package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.util.Objects;

/**
 * Makes SCRAM nonces: {@code length} printable ASCII characters other than ',' (RFC 5802
 * {@code printable}), drawn from an injected {@link RandomSource} so tests can replay the RFC
 * examples exactly. In production hand it a {@link SecureRandomSource}: predictable nonces let an
 * eavesdropper replay an exchange.
 */
public final class ScramNonces {

  /** 24 characters of a 93-symbol alphabet: about 157 bits. */
  public static final int DEFAULT_LENGTH = 24;

  static final String ALPHABET = alphabet();

  private final RandomSource random;
  private final int length;

  public ScramNonces(RandomSource random, int length) {
    this.random = Objects.requireNonNull(random, "random");
    if (length < 8 || length > 256) {
      throw new IllegalArgumentException("nonce length: " + length + " (expected: 8..256)");
    }
    this.length = length;
  }

  public static ScramNonces of(RandomSource random) {
    return new ScramNonces(random, DEFAULT_LENGTH);
  }

  public String next() {
    char[] c = new char[length];
    for (int i = 0; i < length; i++) {
      c[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
    }
    return new String(c);
  }

  RandomSource random() {
    return random;
  }

  private static String alphabet() {
    StringBuilder sb = new StringBuilder();
    for (char ch = 0x21; ch <= 0x7e; ch++) {
      if (ch != ',') {
        sb.append(ch);
      }
    }
    return sb.toString();
  }
}

package io.mproxy.core.auth;

import java.util.Optional;

/**
 * The SCRAM variants mproxy speaks: SHA-1 for MongoDB's legacy mechanism, SHA-256 for PostgreSQL
 * and MongoDB 4.0+. The {@code -PLUS} (channel binding) variants are never offered.
 */
public enum ScramMechanism {
  SHA_1("SCRAM-SHA-1", "SHA-1", "HmacSHA1", 20),
  SHA_256("SCRAM-SHA-256", "SHA-256", "HmacSHA256", 32);

  private final String mechanismName;
  private final String digestAlgorithm;
  private final String hmacAlgorithm;
  private final int keyLength;

  ScramMechanism(String mechanismName, String digestAlgorithm, String hmacAlgorithm, int keyLength) {
    this.mechanismName = mechanismName;
    this.digestAlgorithm = digestAlgorithm;
    this.hmacAlgorithm = hmacAlgorithm;
    this.keyLength = keyLength;
  }

  /** The SASL mechanism name, e.g. {@code SCRAM-SHA-256}. */
  public String mechanismName() {
    return mechanismName;
  }

  /** The JCA {@code MessageDigest} algorithm (H in RFC 5802). */
  public String digestAlgorithm() {
    return digestAlgorithm;
  }

  /** The JCA {@code Mac} algorithm (HMAC in RFC 5802). */
  public String hmacAlgorithm() {
    return hmacAlgorithm;
  }

  /** Length in bytes of the hash output, hence of every key, signature and proof. */
  public int keyLength() {
    return keyLength;
  }

  /** The mechanism with this SASL name (exact, case-sensitive as on the wire), if supported. */
  public static Optional<ScramMechanism> fromName(String name) {
    for (ScramMechanism m : values()) {
      if (m.mechanismName.equals(name)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }
}

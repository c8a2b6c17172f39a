package io.mproxy.protocol.mongo;

import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.auth.ScramDecoys;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.auth.SecureRandomSource;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SCRAM credentials of the users a listener knows, derived from their configured passwords the
 * way MongoDB does: SCRAM-SHA-256 from the SASLprepped password, SCRAM-SHA-1 from
 * {@code hex(md5(user + ":mongo:" + password))}. Deriving one costs 4096 hash rounds, so each
 * (mechanism, user, password) is derived once per process and cached; a reload that changes a
 * password derives the new one on first use. A user configured with a {@code scram_verifier}
 * ({@link MongoVerifiers}) has exactly the mechanisms it has keys for. Unknown users get stable decoys, so a client cannot
 * tell a missing user from a wrong password.
 */
final class ScramUsers {

  static final RandomSource RANDOM = new SecureRandomSource();
  private static final ScramDecoys DECOYS = new ScramDecoys(RANDOM);
  private static final int MAX_CACHED = 10_000;
  private static final Map<Key, ScramCredential> CACHE = new ConcurrentHashMap<>();
  private static final Map<String, Map<ScramMechanism, ScramCredential>> VERIFIERS = new ConcurrentHashMap<>();

  private record Key(ScramMechanism mechanism, String user, String password) {
    @Override
    public String toString() {
      return "Key[" + mechanism + " " + user + "]";
    }
  }

  private ScramUsers() {
  }

  static ScramDecoys decoys() {
    return DECOYS;
  }

  /**
   * The credential of {@code user} for {@code mechanism}, if the listener knows the user and has
   * a password or a verifier of that mechanism for it.
   */
  static Optional<ScramCredential> lookup(AuthConfig auth, ScramMechanism mechanism, String user) {
    Optional<AuthConfig.UserConfig> u = auth.user(user);
    if (u.isEmpty()) {
      return Optional.empty();
    }
    if (u.get().password() != null) {
      return Optional.of(credential(mechanism, user, u.get().password()));
    }
    if (u.get().scramVerifier() != null) {
      return Optional.ofNullable(verifiers(u.get().scramVerifier()).get(mechanism));
    }
    return Optional.empty();
  }

  /** The mechanisms {@code user} can log in with: both for a password, else those it has verifiers for. */
  static Set<ScramMechanism> mechanisms(AuthConfig auth, String user) {
    Optional<AuthConfig.UserConfig> u = auth.user(user);
    if (u.isEmpty()) {
      return Set.of();
    }
    if (u.get().password() != null) {
      return EnumSet.allOf(ScramMechanism.class);
    }
    if (u.get().scramVerifier() != null) {
      return verifiers(u.get().scramVerifier()).keySet();
    }
    return Set.of();
  }

  /** Parsed verifiers, cached by text; an unparsable one (check rejects it) gives no mechanisms. */
  private static Map<ScramMechanism, ScramCredential> verifiers(String text) {
    Map<ScramMechanism, ScramCredential> v = VERIFIERS.get(text);
    if (v != null) {
      return v;
    }
    if (VERIFIERS.size() >= MAX_CACHED) {
      VERIFIERS.clear();
    }
    return VERIFIERS.computeIfAbsent(text, t -> {
      try {
        return MongoVerifiers.parse(t);
      } catch (IllegalArgumentException e) {
        return Map.of();
      }
    });
  }

  static ScramCredential credential(ScramMechanism mechanism, String user, String password) {
    Key key = new Key(mechanism, user, password);
    ScramCredential c = CACHE.get(key);
    if (c != null) {
      return c;
    }
    if (CACHE.size() >= MAX_CACHED) {
      CACHE.clear();
    }
    String secret = mechanism == ScramMechanism.SHA_1 ? mongoDigest(user, password) : password;
    return CACHE.computeIfAbsent(key, k -> ScramCredential.fromPassword(mechanism, secret, RANDOM));
  }

  /** MongoDB's SCRAM-SHA-1 password: {@code hex(md5(user + ":mongo:" + password))}. */
  static String mongoDigest(String user, String password) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      return HexFormat.of().formatHex(md5.digest((user + ":mongo:" + password).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is required of every JVM", e);
    }
  }
}

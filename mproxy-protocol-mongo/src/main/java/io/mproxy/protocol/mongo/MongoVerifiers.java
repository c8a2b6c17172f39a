package io.mproxy.protocol.mongo;

import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.auth.ScramMechanism;
import java.util.Base64;
import java.util.EnumMap;
import java.util.Map;

/**
 * A MongoDB user's {@code scram_verifier}: the stored SCRAM keys instead of the password, so the
 * config file holds nothing a client could log in with. One verifier per mechanism, separated by
 * whitespace, each {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} or
 * {@code SCRAM-SHA-1$…} with the same parts in base64 — PostgreSQL's layout, filled with what
 * MongoDB keeps in {@code admin.system.users} ({@code credentials.SCRAM-SHA-256.iterationCount},
 * {@code salt}, {@code storedKey}, {@code serverKey}). The SCRAM-SHA-1 keys derive from MongoDB's
 * digested password {@code hex(md5(user:mongo:password))}, as the server's do. A user gets only
 * the mechanisms it has a verifier for. Errors name the broken part, never the secret.
 */
final class MongoVerifiers {

  static final String FORMAT = "expected: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
      + " and/or SCRAM-SHA-1$<iterations>:<salt>$<StoredKey>:<ServerKey>, base64, separated by a space";

  private MongoVerifiers() {
  }

  /**
   * Parses a user's verifiers.
   *
   * @throws IllegalArgumentException saying which part is malformed
   */
  static Map<ScramMechanism, ScramCredential> parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty (" + FORMAT + ")");
    }
    Map<ScramMechanism, ScramCredential> out = new EnumMap<>(ScramMechanism.class);
    for (String one : text.trim().split("\\s+")) {
      ScramCredential c = parseOne(one);
      if (out.put(c.mechanism(), c) != null) {
        throw new IllegalArgumentException("two " + c.mechanism().mechanismName() + " verifiers (" + FORMAT + ")");
      }
    }
    return out;
  }

  private static ScramCredential parseOne(String v) {
    int firstDollar = v.indexOf('$');
    if (firstDollar < 0) {
      throw new IllegalArgumentException("no mechanism prefix (" + FORMAT + ")");
    }
    String prefix = v.substring(0, firstDollar);
    ScramMechanism mechanism = switch (prefix) {
      case MongoProtocolAdapter.SCRAM_SHA_256 -> ScramMechanism.SHA_256;
      case MongoProtocolAdapter.SCRAM_SHA_1 -> ScramMechanism.SHA_1;
      default -> throw new IllegalArgumentException("unknown mechanism prefix '" + safe(prefix) + "' (" + FORMAT + ")");
    };
    String rest = v.substring(firstDollar + 1);
    int dollar = rest.indexOf('$');
    if (dollar < 0 || rest.indexOf('$', dollar + 1) >= 0) {
      throw new IllegalArgumentException(prefix + ": expected two '$' separators (" + FORMAT + ")");
    }
    String[] iterSalt = splitColon(rest.substring(0, dollar), prefix, "iterations:salt");
    String[] keys = splitColon(rest.substring(dollar + 1), prefix, "StoredKey:ServerKey");
    int iterations;
    try {
      iterations = Integer.parseInt(iterSalt[0]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(prefix + ": iterations is not a number (" + FORMAT + ")");
    }
    int min = 4096;
    if (iterations < min || iterations > io.mproxy.core.auth.ScramClient.MAX_ITERATIONS) {
      throw new IllegalArgumentException(prefix + ": iterations " + iterations + " (expected: "
          + min + " to " + io.mproxy.core.auth.ScramClient.MAX_ITERATIONS + ", as drivers accept)");
    }
    byte[] salt = base64(iterSalt[1], prefix, "salt");
    byte[] storedKey = base64(keys[0], prefix, "StoredKey");
    byte[] serverKey = base64(keys[1], prefix, "ServerKey");
    try {
      return new ScramCredential(mechanism, salt, iterations, storedKey, serverKey);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix + ": " + e.getMessage());
    }
  }

  /** Formats {@code c} the way {@link #parse} reads it (for tools and tests). */
  static String format(ScramCredential c) {
    Base64.Encoder b64 = Base64.getEncoder();
    return c.mechanism().mechanismName() + "$" + c.iterations() + ":" + b64.encodeToString(c.salt()) + "$"
        + b64.encodeToString(c.storedKey()) + ":" + b64.encodeToString(c.serverKey());
  }

  private static String[] splitColon(String part, String prefix, String what) {
    int colon = part.indexOf(':');
    if (colon <= 0 || colon == part.length() - 1 || part.indexOf(':', colon + 1) >= 0) {
      throw new IllegalArgumentException(prefix + ": malformed " + what + " (" + FORMAT + ")");
    }
    return new String[] {part.substring(0, colon), part.substring(colon + 1)};
  }

  private static byte[] base64(String s, String prefix, String what) {
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix + ": " + what + " is not valid base64");
    }
  }

  /** A prefix is not secret, but keep the message short and printable. */
  private static String safe(String s) {
    String t = s.length() > 20 ? s.substring(0, 20) + "…" : s;
    return t.replaceAll("[^\\x20-\\x7e]", "?");
  }
}

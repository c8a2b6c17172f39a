package io.mproxy.core.auth;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Remembers the ClientKey and ServerKey a {@link ScramClient} derived for a (mechanism, password,
 * salt, iteration count), so the proxy's repeated logins to the same backend skip Hi(): thousands
 * of HMAC rounds, milliseconds of CPU on an event loop for every new backend connection. A server
 * keeps a user's salt until the password changes, so one entry per backend user is the usual
 * footprint. Bounded (least recently used entries go first) and thread-safe; keys stay in memory,
 * which is no worse than the configured password they come from.
 */
public final class ScramKeyCache {

  /** The derived keys for one salt. */
  record Keys(byte[] clientKey, byte[] serverKey) {}

  private record Key(ScramMechanism mechanism, String password, String salt, int iterations) {
    @Override
    public String toString() {
      return "Key[" + mechanism + ", iterations=" + iterations + "]";
    }
  }

  private final Map<Key, Keys> entries;

  public ScramKeyCache(int maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 1)");
    }
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Keys> eldest) {
        return size() > maxEntries;
      }
    };
  }

  /** Entries currently held. */
  public synchronized int size() {
    return entries.size();
  }

  synchronized Keys get(ScramMechanism mechanism, String password, byte[] salt, int iterations) {
    Keys keys = entries.get(key(mechanism, password, salt, iterations));
    return keys == null ? null : new Keys(keys.clientKey().clone(), keys.serverKey().clone());
  }

  synchronized void put(ScramMechanism mechanism, String password, byte[] salt, int iterations,
      byte[] clientKey, byte[] serverKey) {
    entries.put(key(mechanism, password, salt, iterations),
        new Keys(clientKey.clone(), serverKey.clone()));
  }

  private static Key key(ScramMechanism mechanism, String password, byte[] salt, int iterations) {
    Objects.requireNonNull(password, "password");
    return new Key(mechanism, password, Arrays.toString(salt), iterations);
  }
}

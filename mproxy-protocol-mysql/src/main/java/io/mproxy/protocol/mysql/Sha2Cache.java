package io.mproxy.protocol.mysql;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * caching_sha2_password's server-side cache, as MySQL keeps it: a user may take the fast path
 * (one scramble, no password exchange) only after one full authentication with the same
 * password since the proxy started. Keys are user plus password fingerprint, so a changed
 * password in the config needs a full authentication again. Bounded.
 */
final class Sha2Cache {

  private static final int MAX_ENTRIES = 100_000;
  private final Set<String> entries = ConcurrentHashMap.newKeySet();

  boolean contains(String listener, String user, String password) {
    return entries.contains(key(listener, user, password));
  }

  void add(String listener, String user, String password) {
    if (entries.size() >= MAX_ENTRIES) {
      entries.clear();
    }
    entries.add(key(listener, user, password));
  }

  private static String key(String listener, String user, String password) {
    byte[] h = io.mproxy.protocol.mysql.auth.Scrambles.sha2Proof(password, new byte[20]);
    return listener + '\u0000' + user + '\u0000' + java.util.HexFormat.of().formatHex(h);
  }
}

package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScramKeyCacheTest {

  private final ScriptedRandom random = ScriptedRandom.seeded();

  private static void login(ScramClient client, ScramServer server) throws ScramException {
    client.verifyServerFinal(server.clientFinal(client.clientFinal(server.clientFirst(client.clientFirst()))));
  }

  @Test
  void repeatedLoginsWithTheSameSaltShareOneEntry() throws ScramException {
    ScramKeyCache cache = new ScramKeyCache(4);
    ScramCredential a = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", random);
    ScramCredential b = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", random);

    for (int i = 0; i < 3; i++) {
      ScramServer server = ScramServer.forCredential(a, random);
      login(ScramClient.create(ScramMechanism.SHA_256, "", "pw", ScramNonces.of(random), cache), server);
      assertTrue(server.isAuthenticated());
    }
    assertEquals(1, cache.size());

    login(ScramClient.create(ScramMechanism.SHA_256, "", "pw", ScramNonces.of(random), cache),
        ScramServer.forCredential(b, random));
    assertEquals(2, cache.size());
  }

  @Test
  void cachedKeysAreWhatTheClientUses() {
    ScramKeyCache cache = new ScramKeyCache(4);
    ScramCredential c = ScramCredential.fromPassword(ScramMechanism.SHA_1, "pw", new byte[] {1, 2}, 64);
    cache.put(ScramMechanism.SHA_1, "pw", new byte[] {1, 2}, 64, new byte[20], new byte[20]);

    ScramServer server = ScramServer.forCredential(c, random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "u", "pw", ScramNonces.of(random), cache);

    ScramException e = assertThrows(ScramException.class,
        () -> server.clientFinal(client.clientFinal(server.clientFirst(client.clientFirst()))));
    assertEquals(ScramError.INVALID_PROOF, e.error());
  }

  @Test
  void isBounded() {
    ScramKeyCache cache = new ScramKeyCache(2);
    for (int i = 0; i < 5; i++) {
      cache.put(ScramMechanism.SHA_1, "pw", new byte[] {(byte) i}, 1, new byte[20], new byte[20]);
    }
    assertEquals(2, cache.size());
  }
}

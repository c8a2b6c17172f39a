package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The worked examples of RFC 5802 section 5 (SHA-1) and RFC 7677 section 3 (SHA-256). */
class ScramRfcExamplesTest {

  private static final String SHA1_CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL";
  private static final String SHA1_SERVER_NONCE = "3rfcNHYJY1ZVvWVs7j";
  private static final String SHA1_CLIENT_FIRST = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
  private static final String SHA1_SERVER_FIRST =
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
  private static final String SHA1_CLIENT_FINAL =
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
  private static final String SHA1_SERVER_FINAL = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

  private static final String SHA256_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
  private static final String SHA256_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String SHA256_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
  private static final String SHA256_SERVER_FIRST =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  private static final String SHA256_CLIENT_FINAL =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  private static final String SHA256_SERVER_FINAL =
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

  @Test
  void sha1ClientProducesTheRfcMessages() throws ScramException {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "user", "pencil",
        new ScramNonces(new ScriptedRandom(SHA1_CLIENT_NONCE), SHA1_CLIENT_NONCE.length()));

    assertEquals(SHA1_CLIENT_FIRST, client.clientFirst());
    assertEquals(SHA1_CLIENT_FINAL, client.clientFinal(SHA1_SERVER_FIRST));
    client.verifyServerFinal(SHA1_SERVER_FINAL);
    assertEquals(ScramClient.State.DONE, client.state());
  }

  @Test
  void sha1ServerProducesTheRfcMessages() throws ScramException {
    ScramCredential credential = ScramCredential.fromPassword(ScramMechanism.SHA_1, "pencil",
        Base64.getDecoder().decode("QSXCR+Q6sek8bf92"), 4096);
    ScramServer server = ScramServer.forCredential(credential,
        new ScramNonces(new ScriptedRandom(SHA1_SERVER_NONCE), SHA1_SERVER_NONCE.length()));

    assertEquals(SHA1_SERVER_FIRST, server.clientFirst(SHA1_CLIENT_FIRST));
    assertEquals("user", server.username());
    assertEquals(SHA1_SERVER_FINAL, server.clientFinal(SHA1_CLIENT_FINAL));
    assertTrue(server.isAuthenticated());
  }

  @Test
  void sha256ClientProducesTheRfcMessages() throws ScramException {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "user", "pencil",
        new ScramNonces(new ScriptedRandom(SHA256_CLIENT_NONCE), SHA256_CLIENT_NONCE.length()));

    assertEquals(SHA256_CLIENT_FIRST, client.clientFirst());
    assertEquals(SHA256_CLIENT_FINAL, client.clientFinal(SHA256_SERVER_FIRST));
    client.verifyServerFinal(SHA256_SERVER_FINAL);
    assertEquals(ScramClient.State.DONE, client.state());
  }

  @Test
  void sha256ServerProducesTheRfcMessages() throws ScramException {
    ScramCredential credential = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pencil",
        Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
    ScramServer server = ScramServer.forCredential(credential,
        new ScramNonces(new ScriptedRandom(SHA256_SERVER_NONCE), SHA256_SERVER_NONCE.length()));

    assertEquals(SHA256_SERVER_FIRST, server.clientFirst(SHA256_CLIENT_FIRST));
    assertEquals(SHA256_SERVER_FINAL, server.clientFinal(SHA256_CLIENT_FINAL));
    assertTrue(server.isAuthenticated());
  }
}

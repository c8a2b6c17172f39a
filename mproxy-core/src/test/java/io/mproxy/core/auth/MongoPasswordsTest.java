package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-1 example conversation of the MongoDB authentication specification. */
class MongoPasswordsTest {

  private static final String CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL";
  private static final String SERVER_NONCE = "Ho+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE";
  private static final String SERVER_FIRST =
      "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000";
  private static final String CLIENT_FINAL =
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=";
  private static final String SERVER_FINAL = "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=";

  @Test
  void digestIsHexMd5OfUserMongoPassword() {
    assertEquals("1c33006ec1ffd90f9cadcbcc0e118200", MongoPasswords.sha1Digest("user", "pencil"));
  }

  @Test
  void clientReproducesTheSpecConversation() throws ScramException {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "user",
        MongoPasswords.sha1Digest("user", "pencil"),
        new ScramNonces(new ScriptedRandom(CLIENT_NONCE), CLIENT_NONCE.length()));

    assertEquals("n,,n=user,r=" + CLIENT_NONCE, client.clientFirst());
    assertEquals(CLIENT_FINAL, client.clientFinal(SERVER_FIRST));
    client.verifyServerFinal(SERVER_FINAL);
  }

  @Test
  void serverReproducesTheSpecConversation() throws ScramException {
    ScramCredential credential = MongoPasswords.credential(ScramMechanism.SHA_1, "user", "pencil",
        Base64.getDecoder().decode("rQ9ZY3MntBeuP3E1TDVC4w=="), 10000);
    ScramServer server = ScramServer.forCredential(credential,
        new ScramNonces(new ScriptedRandom(SERVER_NONCE), SERVER_NONCE.length()));

    assertEquals(SERVER_FIRST, server.clientFirst("n,,n=user,r=" + CLIENT_NONCE));
    assertEquals(SERVER_FINAL, server.clientFinal(CLIENT_FINAL));
    assertTrue(server.isAuthenticated());
  }
}

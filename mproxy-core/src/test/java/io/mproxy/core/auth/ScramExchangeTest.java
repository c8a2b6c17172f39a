package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScramExchangeTest {

  private final ScriptedRandom random = ScriptedRandom.seeded();

  private ScramCredential credential(ScramMechanism m, String password) {
    return ScramCredential.fromPassword(m, password, random);
  }

  @ParameterizedTest
  @EnumSource(ScramMechanism.class)
  void clientAndServerAgree(ScramMechanism m) throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(m, "s3cret"), random);
    ScramClient client = ScramClient.create(m, "app", "s3cret", random);

    String serverFirst = server.clientFirst(client.clientFirst());
    String serverFinal = server.clientFinal(client.clientFinal(serverFirst));
    client.verifyServerFinal(serverFinal);

    assertTrue(server.isAuthenticated());
    assertEquals("app", server.username());
    assertEquals(ScramClient.State.DONE, client.state());
  }

  @ParameterizedTest
  @EnumSource(ScramMechanism.class)
  void wrongPasswordIsInvalidProof(ScramMechanism m) throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(m, "s3cret"), random);
    ScramClient client = ScramClient.create(m, "app", "guess", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));

    ScramException e = assertThrows(ScramException.class, () -> server.clientFinal(clientFinal));

    assertEquals(ScramError.INVALID_PROOF, e.error());
    assertEquals("e=invalid-proof", e.serverFinalMessage());
    assertEquals(ScramServer.State.FAILED, server.state());
    assertFalse(server.isAuthenticated());
  }

  @Test
  void sha256PasswordIsSaslPreppedOnBothSides() throws ScramException {
    ScramCredential stored = credential(ScramMechanism.SHA_256, "IX");
    ScramServer server = ScramServer.forCredential(stored, random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "I\u00ADX", random);

    server.clientFinal(client.clientFinal(server.clientFirst(client.clientFirst())));

    assertTrue(server.isAuthenticated());
  }

  @Test
  void emptyUsernameIsAcceptedAsPostgresSendsIt() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_256, "pw"), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw", random);
    String first = client.clientFirst();
    assertTrue(first.startsWith("n,,n=,r="), first);

    server.clientFinal(client.clientFinal(server.clientFirst(first)));

    assertEquals("", server.username());
    assertTrue(server.isAuthenticated());
  }

  @Test
  void usernameEscapesAreDecoded() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "a,b=c", "pw", random);
    String first = client.clientFirst();
    assertTrue(first.startsWith("n,,n=a=2Cb=3Dc,r="), first);

    server.clientFinal(client.clientFinal(server.clientFirst(first)));

    assertEquals("a,b=c", server.username());
  }

  @Test
  void badUsernameEscapeIsInvalidUsernameEncoding() {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    ScramException e = assertThrows(ScramException.class, () -> server.clientFirst("n,,n=a=2Xb,r=abcdefgh"));
    assertEquals(ScramError.INVALID_USERNAME_ENCODING, e.error());
  }

  @Test
  void gs2HeaderYIsAcceptedAndMustBeEchoed() throws ScramException {
    ScramCredential c = credential(ScramMechanism.SHA_256, "pw");
    String clientNonce = "clientNonce123";
    ScramServer server = ScramServer.forCredential(c, random);
    String serverFirst = server.clientFirst("y,,n=,r=" + clientNonce);
    String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
    String withoutProof = "c=eSws,r=" + nonce;

    String proof = proof(c, "pw", "n=,r=" + clientNonce, serverFirst, withoutProof);
    String serverFinal = server.clientFinal(withoutProof + ",p=" + proof);

    assertTrue(serverFinal.startsWith("v="));
    assertTrue(server.isAuthenticated());
  }

  @Test
  void channelBindingThatDoesNotEchoTheHeaderIsRefused() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_256, "pw"), random);
    String serverFirst = server.clientFirst("n,,n=,r=clientNonce123");
    String nonce = serverFirst.substring(2, serverFirst.indexOf(','));

    ScramException e = assertThrows(ScramException.class,
        () -> server.clientFinal("c=eSws,r=" + nonce + ",p=AAAA"));

    assertEquals(ScramError.CHANNEL_BINDINGS_DONT_MATCH, e.error());
  }

  @Test
  void channelBindingRequestIsRefused() {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_256, "pw"), random);
    ScramException e = assertThrows(ScramException.class,
        () -> server.clientFirst("p=tls-server-end-point,,n=,r=clientNonce123"));
    assertEquals(ScramError.CHANNEL_BINDING_NOT_SUPPORTED, e.error());
    assertEquals(ScramServer.State.FAILED, server.state());
  }

  @Test
  void tamperedNonceIsRefused() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "u", "pw", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));
    int r = clientFinal.indexOf(",r=") + 3;
    char last = clientFinal.charAt(clientFinal.indexOf(',', r) - 1);
    String tampered = clientFinal.substring(0, clientFinal.indexOf(',', r) - 1)
        + (last == 'x' ? 'y' : 'x') + clientFinal.substring(clientFinal.indexOf(',', r));

    ScramException e = assertThrows(ScramException.class, () -> server.clientFinal(tampered));

    assertEquals(ScramError.OTHER_ERROR, e.error());
    assertTrue(e.getMessage().contains("nonce"), e.getMessage());
  }

  @Test
  void tamperedProofIsInvalidProof() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_256, "pw"), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));
    String tampered = clientFinal.substring(0, clientFinal.indexOf(",p=") + 3)
        + java.util.Base64.getEncoder().encodeToString(new byte[32]);

    ScramException e = assertThrows(ScramException.class, () -> server.clientFinal(tampered));

    assertEquals(ScramError.INVALID_PROOF, e.error());
  }

  @Test
  void unknownUserFailsOnlyAtTheProofEvenWithTheRightPassword() throws ScramException {
    ScramDecoys decoys = new ScramDecoys(random);
    Map<String, ScramCredential> users = Map.of("alice", credential(ScramMechanism.SHA_256, "pw"));
    ScramServer.CredentialLookup lookup = name -> Optional.ofNullable(users.get(name));

    ScramServer known = ScramServer.withLookup(ScramMechanism.SHA_256, lookup, decoys, random);
    ScramClient alice = ScramClient.create(ScramMechanism.SHA_256, "alice", "pw", random);
    known.clientFinal(alice.clientFinal(known.clientFirst(alice.clientFirst())));
    assertTrue(known.isAuthenticated());

    ScramServer unknown = ScramServer.withLookup(ScramMechanism.SHA_256, lookup, decoys, random);
    ScramClient bob = ScramClient.create(ScramMechanism.SHA_256, "bob", "pw", random);
    String serverFirst = unknown.clientFirst(bob.clientFirst());
    assertTrue(serverFirst.matches("r=[^,]+,s=[A-Za-z0-9+/=]{24},i=4096"), serverFirst);
    String clientFinal = bob.clientFinal(serverFirst);

    ScramException e = assertThrows(ScramException.class, () -> unknown.clientFinal(clientFinal));
    assertEquals(ScramError.INVALID_PROOF, e.error());
    assertEquals("bob", unknown.username());
  }

  @Test
  void decoySaltIsStablePerUserSoRepeatedProbesLookAlike() throws ScramException {
    ScramDecoys decoys = new ScramDecoys(random);
    ScramServer.CredentialLookup nobody = name -> Optional.empty();

    String first = salt(ScramServer.withLookup(ScramMechanism.SHA_1, nobody, decoys, random), "bob");
    String again = salt(ScramServer.withLookup(ScramMechanism.SHA_1, nobody, decoys, random), "bob");
    String other = salt(ScramServer.withLookup(ScramMechanism.SHA_1, nobody, decoys, random), "eve");

    assertEquals(first, again);
    assertFalse(first.equals(other));
  }

  @Test
  void forUnknownUserFailsEvenWhenTheProofWouldMatchItsKeys() throws ScramException {
    ScramCredential decoy = credential(ScramMechanism.SHA_256, "pw");
    ScramServer server = ScramServer.forUnknownUser(decoy, random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));

    ScramException e = assertThrows(ScramException.class, () -> server.clientFinal(clientFinal));

    assertEquals(ScramError.INVALID_PROOF, e.error());
  }

  @Test
  void lookupUnderAnotherMechanismIsTreatedAsUnknown() throws ScramException {
    ScramCredential sha1 = credential(ScramMechanism.SHA_1, "pw");
    ScramServer server = ScramServer.withLookup(ScramMechanism.SHA_256, n -> Optional.of(sha1),
        new ScramDecoys(random), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "u", "pw", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));

    assertEquals(ScramError.INVALID_PROOF,
        assertThrows(ScramException.class, () -> server.clientFinal(clientFinal)).error());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ",", "n,,", "n", "x,,n=u,r=abc", "n,,r=abc,n=u", "n,,n=u",
      "n,,n=u,r=", "n,a=admin,n=u,r=abc", "n,,m=ext,n=u,r=abc", "n,,n=u,r=ab c", "n,,=,r=x"})
  void malformedClientFirstIsAScramErrorNotACrash(String message) {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    assertThrows(ScramException.class, () -> server.clientFirst(message));
    assertEquals(ScramServer.State.FAILED, server.state());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "c=biws", "c=biws,r=x,p=AAAA", "c=!!!!,r=x,p=AAAA", "p=AAAA",
      "c=biws,r=NONCE,p=!!!", "c=biws,r=NONCE,p=AAAA,x=1", "c=biws,r=NONCE,m=1,p=AAAA",
      "r=NONCE,c=biws,p=AAAA"})
  void malformedClientFinalIsAScramErrorNotACrash(String template) throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    String serverFirst = server.clientFirst("n,,n=u,r=abcdefgh");
    String nonce = serverFirst.substring(2, serverFirst.indexOf(','));

    assertThrows(ScramException.class, () -> server.clientFinal(template.replace("NONCE", nonce)));
    assertEquals(ScramServer.State.FAILED, server.state());
  }

  @Test
  void oversizedMessageIsRefused() {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    String huge = "n,,n=" + "u".repeat(100_000) + ",r=abcdefgh";
    assertEquals(ScramError.INVALID_ENCODING,
        assertThrows(ScramException.class, () -> server.clientFirst(huge)).error());
  }

  @Test
  void callsOutOfOrderAreProgrammingErrors() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "pw"), random);
    assertThrows(IllegalStateException.class, () -> server.clientFinal("c=biws,r=x,p=AAAA"));
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "u", "pw", random);
    assertThrows(IllegalStateException.class, () -> client.verifyServerFinal("v=AAAA"));
    client.clientFirst();
    assertThrows(IllegalStateException.class, client::clientFirst);
  }

  @Test
  void clientRefusesAServerNonceThatDoesNotExtendItsOwn() {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw", random);
    client.clientFirst();
    ScramException e = assertThrows(ScramException.class,
        () -> client.clientFinal("r=someoneElsesNonce,s=QSXCR+Q6sek8bf92,i=4096"));
    assertEquals(ScramError.OTHER_ERROR, e.error());
    assertEquals(ScramClient.State.FAILED, client.state());
  }

  @Test
  void clientRefusesAServerNonceEqualToItsOwn() {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw",
        new ScramNonces(new ScriptedRandom("abcdefgh"), 8));
    client.clientFirst();
    assertThrows(ScramException.class, () -> client.clientFinal("r=abcdefgh,s=QSXCR+Q6sek8bf92,i=4096"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "10000001", "2147483647", "99999999999", "x"})
  void clientRefusesInsaneIterationCounts(String iterations) {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "pw",
        new ScramNonces(new ScriptedRandom("abcdefgh"), 8));
    client.clientFirst();
    assertThrows(ScramException.class,
        () -> client.clientFinal("r=abcdefghXYZ,s=QSXCR+Q6sek8bf92,i=" + iterations));
  }

  @Test
  void clientReportsTheServerError() throws ScramException {
    ScramServer server = ScramServer.forCredential(credential(ScramMechanism.SHA_256, "pw"), random);
    ScramClient client = ScramClient.create(ScramMechanism.SHA_256, "", "wrong", random);
    String clientFinal = client.clientFinal(server.clientFirst(client.clientFirst()));
    ScramException serverSide = assertThrows(ScramException.class, () -> server.clientFinal(clientFinal));

    ScramException e = assertThrows(ScramException.class,
        () -> client.verifyServerFinal(serverSide.serverFinalMessage()));

    assertEquals(ScramError.INVALID_PROOF, e.error());
  }

  @Test
  void clientRefusesAServerThatCannotSign() throws ScramException {
    ScramClient client = ScramClient.create(ScramMechanism.SHA_1, "user", "pencil", random);
    ScramServer impostor = ScramServer.forCredential(credential(ScramMechanism.SHA_1, "other"), random);
    String serverFirst = impostor.clientFirst(client.clientFirst());
    client.clientFinal(serverFirst);

    ScramException e = assertThrows(ScramException.class,
        () -> client.verifyServerFinal("v=" + java.util.Base64.getEncoder().encodeToString(new byte[20])));

    assertEquals(ScramError.INVALID_PROOF, e.error());
    assertEquals(ScramClient.State.FAILED, client.state());
  }

  @Test
  void credentialDerivationMatchesBetweenClientAndServerKeys() {
    byte[] salt = {1, 2, 3, 4};
    ScramCredential a = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", salt, 10);
    ScramCredential b = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", salt, 10);
    ScramCredential c = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", salt, 11);
    assertEquals(a, b);
    assertArrayEquals(a.storedKey(), b.storedKey());
    assertFalse(a.equals(c));
  }

  private static String salt(ScramServer server, String user) throws ScramException {
    String first = server.clientFirst("n,,n=" + user + ",r=abcdefgh");
    return first.substring(first.indexOf(",s=") + 3, first.indexOf(",i="));
  }

  /** An independent proof computation, following RFC 5802 section 3 step by step. */
  private static String proof(ScramCredential c, String password, String clientFirstBare,
      String serverFirst, String withoutProof) {
    ScramMechanism m = c.mechanism();
    byte[] salted = ScramCrypto.hi(m, password.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        c.salt(), c.iterations());
    byte[] clientKey = ScramCrypto.hmac(m, salted, ScramCrypto.CLIENT_KEY);
    byte[] auth = (clientFirstBare + "," + serverFirst + "," + withoutProof)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] sig = ScramCrypto.hmac(m, ScramCrypto.hash(m, clientKey), auth);
    return java.util.Base64.getEncoder().encodeToString(ScramCrypto.xor(clientKey, sig));
  }
}

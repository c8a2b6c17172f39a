package io.mproxy.protocol.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.auth.ScramCredential;
import io.mproxy.core.auth.ScramMechanism;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MongoVerifiersTest {

  private static final byte[] SALT = "sixteen-byte-slt".getBytes(StandardCharsets.US_ASCII);
  private static final ScramCredential SHA256 = ScramCredential.fromPassword(ScramMechanism.SHA_256, "pw", SALT, 4096);
  private static final ScramCredential SHA1 =
      ScramCredential.fromPassword(ScramMechanism.SHA_1, ScramUsers.mongoDigest("u", "pw"), SALT, 4096);

  @Test
  void oneOrBothMechanismsParseBackToTheirKeys() {
    assertEquals(Map.of(ScramMechanism.SHA_256, SHA256), MongoVerifiers.parse(MongoVerifiers.format(SHA256)));
    Map<ScramMechanism, ScramCredential> both =
        MongoVerifiers.parse("  " + MongoVerifiers.format(SHA1) + "\n " + MongoVerifiers.format(SHA256) + " ");
    assertEquals(Map.of(ScramMechanism.SHA_256, SHA256, ScramMechanism.SHA_1, SHA1), both);
  }

  @Test
  void theKeysAreTheOnesMongoDbDerivesFromThePassword() {
    // SCRAM-SHA-1 from hex(md5("u:mongo:pw")), as ScramUsers derives it for a plain password
    assertEquals(SHA1, ScramCredential.fromPassword(ScramMechanism.SHA_1, ScramUsers.mongoDigest("u", "pw"), SALT, 4096));
    assertEquals(Set.of(ScramMechanism.SHA_1), MongoVerifiers.parse(MongoVerifiers.format(SHA1)).keySet());
  }

  @Test
  void malformedVerifiersSayWhatIsWrongWithoutTheSecret() {
    String good = MongoVerifiers.format(SHA256);
    String key = good.substring(good.lastIndexOf(':') + 1);
    assertMessage("", "empty");
    assertMessage("hunter2", "no mechanism prefix");
    assertMessage("SCRAM-MD5$1:a$b:c", "unknown mechanism prefix 'SCRAM-MD5'");
    assertMessage(good.replace("SCRAM-SHA-256$4096", "SCRAM-SHA-256$12"), "iterations 12 (expected: 4096 to");
    assertMessage(good.replace("SCRAM-SHA-256$4096", "SCRAM-SHA-256$many"), "iterations is not a number");
    assertMessage(good.replace(":" + key, ":" + key.substring(4)), "keys:");
    assertMessage(good.replace(":" + key, ":!!" + key), "ServerKey is not valid base64");
    assertMessage(good.replace(":" + key, ""), "malformed StoredKey:ServerKey");
    assertMessage(good.replace("SCRAM-SHA-256", "SCRAM-SHA-1"), "SCRAM-SHA-1: keys: 32 and 32 bytes (expected: 20");
    assertMessage(good + " " + good, "two SCRAM-SHA-256 verifiers");
  }

  private static void assertMessage(String verifier, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MongoVerifiers.parse(verifier));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    String good = MongoVerifiers.format(SHA256);
    assertFalse(e.getMessage().contains(good.substring(good.lastIndexOf(':') + 1, good.lastIndexOf(':') + 20)),
        "no key bytes in: " + e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"));
  }
}

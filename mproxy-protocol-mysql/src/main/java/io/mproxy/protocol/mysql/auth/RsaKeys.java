package io.mproxy.protocol.mysql.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import javax.crypto.Cipher;

/**
 * The proxy's RSA key pair for {@code caching_sha2_password} full authentication without TLS:
 * a client asks for the public key, encrypts its password XOR the nonce with it, and the proxy
 * decrypts. Generated once per process, off the event loops (on the first config that asks for
 * caching_sha2_password).
 */
public final class RsaKeys {

  private static volatile RsaKeys shared;

  private final KeyPair pair;
  private final byte[] publicPem;

  private RsaKeys(KeyPair pair) {
    this.pair = pair;
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(pair.getPublic().getEncoded());
    this.publicPem = ("-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** The process's key pair, generated on first use. */
  public static RsaKeys shared() {
    RsaKeys k = shared;
    if (k == null) {
      synchronized (RsaKeys.class) {
        k = shared;
        if (k == null) {
          try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            k = new RsaKeys(g.generateKeyPair());
            shared = k;
          } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA is part of every JDK", e);
          }
        }
      }
    }
    return k;
  }

  /** The public key as PEM (SubjectPublicKeyInfo), as MySQL servers send it. */
  public byte[] publicPem() {
    return publicPem.clone();
  }

  /**
   * Decrypts what a client sent: OAEP padding (MySQL 8.0.5+ clients) or PKCS#1 v1.5 (clients
   * that think the server is older); null when neither fits.
   */
  public byte[] decrypt(byte[] data) {
    for (String transformation : new String[] {"RSA/ECB/OAEPWithSHA-1AndMGF1Padding", "RSA/ECB/PKCS1Padding"}) {
      try {
        Cipher c = Cipher.getInstance(transformation);
        c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
        return c.doFinal(data);
      } catch (GeneralSecurityException e) {
        // try the other padding
      }
    }
    return null;
  }
}

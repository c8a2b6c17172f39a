package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

class TestCertificatesTest {

    @Test
    void makesASelfSignedLoopbackCertificateAndAPkcs8Key() throws Exception {
        Path dir;
        try (TestCertificates tls = TestCertificates.create()) {
            dir = tls.certificate().getParent();
            X509Certificate cert;
            try (InputStream in = Files.newInputStream(tls.certificate())) {
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal());
            cert.checkValidity();
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            assertTrue(names.contains(List.of(7, "127.0.0.1")), String.valueOf(names));
            assertTrue(names.contains(List.of(2, "localhost")), String.valueOf(names));

            String pem = Files.readString(tls.privateKey(), StandardCharsets.US_ASCII);
            assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----"), pem.lines().findFirst().orElse(""));
            byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
            RSAPrivateKey key = (RSAPrivateKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
            assertEquals(2048, key.getModulus().bitLength());
        }
        assertFalse(Files.exists(dir));
    }
}

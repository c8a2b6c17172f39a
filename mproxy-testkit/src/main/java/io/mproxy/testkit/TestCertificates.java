package io.mproxy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A throw-away self-signed certificate for {@code localhost} / {@code 127.0.0.1} and its
 * unencrypted private key, as PEM files made with the {@code openssl} CLI, for TLS tests of the
 * proxy and of test servers. Real tools made them, so they are what operators would configure:
 * an X.509 v3 certificate with subjectAltName, and a PKCS#8 RSA key.
 *
 * <pre>{@code
 * try (TestCertificates tls = TestCertificates.create()) {
 *     yaml = "tls: { cert: " + tls.certificate() + ", key: " + tls.privateKey() + " }";
 * }
 * }</pre>
 */
public final class TestCertificates implements AutoCloseable {

    private static final Duration OPENSSL_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final Path certificate;
    private final Path privateKey;

    private TestCertificates(Path dir) {
        this.dir = dir;
        this.certificate = dir.resolve("cert.pem");
        this.privateKey = dir.resolve("key.pem");
    }

    /**
     * Makes a new key and certificate (valid from now for 7 days) in a fresh temporary directory.
     *
     * @throws IllegalStateException if {@code openssl} is missing (naming the package) or fails
     */
    public static TestCertificates create() {
        Path openssl = Binaries.require("openssl", "openssl");
        Path dir;
        try {
            dir = Files.createTempDirectory("mproxy-tls-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory", e);
        }
        TestCertificates certificates = new TestCertificates(dir);
        ExternalCommand.Result result = ExternalCommand.run(List.of(openssl.toString(), "req", "-x509",
                "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "7",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", certificates.privateKey.toString(),
                "-out", certificates.certificate.toString()), OPENSSL_TIMEOUT);
        if (!result.succeeded() || !Files.isRegularFile(certificates.certificate)
                || !Files.isRegularFile(certificates.privateKey)) {
            certificates.close();
            throw new IllegalStateException("openssl could not make a self-signed certificate: " + result.describe());
        }
        return certificates;
    }

    /** The PEM certificate ({@code -----BEGIN CERTIFICATE-----}). */
    public Path certificate() {
        return certificate;
    }

    /** The PEM PKCS#8 private key ({@code -----BEGIN PRIVATE KEY-----}), not encrypted. */
    public Path privateKey() {
        return privateKey;
    }

    /** Deletes both files and their directory. Idempotent. */
    @Override
    public void close() {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // a stray temp file is harmless
                }
            });
        } catch (IOException ignored) {
            // a stray temp directory is harmless
        }
    }
}

package io.mproxy.server.it.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** mongodb-driver-sync clients for the tests, with bounded timeouts everywhere. */
final class MongoClients {

  private MongoClients() {
  }

  static MongoClientSettings.Builder settings(String uri) {
    return MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString(uri))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .applyToSocketSettings(s -> s.connectTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS))
        .applyToConnectionPoolSettings(p -> p.maxWaitTime(30, TimeUnit.SECONDS))
        .retryWrites(false)
        .retryReads(false);
  }

  static MongoClient through(int port) {
    return com.mongodb.client.MongoClients.create(settings("mongodb://127.0.0.1:" + port).build());
  }

  static MongoClient through(int port, String appName) {
    return com.mongodb.client.MongoClients.create(settings("mongodb://127.0.0.1:" + port)
        .applicationName(appName).build());
  }

  static MongoClient through(int port, MongoCredential credential) {
    return com.mongodb.client.MongoClients.create(settings("mongodb://127.0.0.1:" + port)
        .credential(credential).build());
  }

  static MongoClient direct(String connectionString) {
    return com.mongodb.client.MongoClients.create(settings(connectionString).build());
  }

  /**
   * A client over TLS ({@code tls=true}) to the proxy's {@code port}, trusting only the PEM
   * certificate {@code ca} and checking the host name (the test certificates name 127.0.0.1);
   * server selection gives up after {@code selectionSeconds}.
   */
  static MongoClient overTls(int port, Path ca, int selectionSeconds) {
    SSLContext context = trusting(ca);
    return com.mongodb.client.MongoClients.create(settings("mongodb://127.0.0.1:" + port)
        .applyToClusterSettings(c -> c.serverSelectionTimeout(selectionSeconds, TimeUnit.SECONDS))
        .applyToSslSettings(b -> b.enabled(true).context(context))
        .build());
  }

  /** A TLS context whose only trust anchor is the PEM certificate {@code ca}. */
  static SSLContext trusting(Path ca) {
    try (InputStream in = Files.newInputStream(ca)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException("cannot trust " + ca + ": " + e, e);
    }
  }
}

package io.mproxy.server.it.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import java.util.concurrent.TimeUnit;

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
}

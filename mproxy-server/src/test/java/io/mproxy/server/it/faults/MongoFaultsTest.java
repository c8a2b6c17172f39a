package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.MongoServerException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.mproxy.testkit.MongoServer;
import io.mproxy.testkit.MongoServerProcess;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * {@link ProtocolFaultsContract} for MongoDB, with mongodb-driver-sync as the client. The victim
 * is mongo-java-server in a child JVM ({@link MongoServerProcess}) so that it can be SIGKILLed
 * like a {@code mongod}; the other backend runs in this JVM. mongo-java-server has no
 * server-side sleep, so the slow request is an ordinary {@code find} sent while the victim is
 * frozen with SIGSTOP: it is at the backend, unanswered, when the victim is SIGKILLed (or, for
 * the drain, until SIGCONT after the proxy got SIGTERM).
 */
class MongoFaultsTest extends FrozenBackendContract {

  private MongoServerProcess victim;
  private MongoServer other;

  @Override
  String protocol() {
    return "mongodb";
  }

  @Override
  void startBackends() {
    victim = MongoServerProcess.start();
    other = MongoServer.start();
  }

  @Override
  void stopBackends() {
    try (MongoServerProcess v = victim; MongoServer o = other) {
      // both servers
    }
  }

  @Override
  String victimAddress() {
    return victim.address();
  }

  @Override
  String otherAddress() {
    return other.address();
  }

  @Override
  void killVictim() {
    victim.kill();
  }

  @Override
  void restartVictim() {
    victim.restart();
  }

  @Override
  void holdVictim() {
    victim.freeze();
  }

  @Override
  void releaseVictim() {
    victim.thaw();
  }

  @Override
  String health() {
    return "{ interval_ms: 60000, timeout_ms: 10000, retry_base_ms: 100, retry_max_ms: 500 }";
  }

  @Override
  String listenerYaml(String name, String cluster) {
    return "  - { name: " + name + ", protocol: mongodb, bind: 127.0.0.1:0, cluster: " + cluster + " }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: mongodb\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  String deadlineListenerYaml(String name, String cluster, long queryTimeoutMs) {
    return "  - { name: " + name + ", protocol: mongodb, bind: 127.0.0.1:0, cluster: " + cluster
        + ", query_timeout_ms: " + queryTimeoutMs + " }\n";
  }

  @Override
  void freezeVictim() {
    victim.freeze();
  }

  @Override
  void thawVictim() {
    victim.thaw();
  }

  @Override
  void assertTimeoutError(Throwable error, String setting, String when) {
    // the driver's exception for code 50 MaxTimeMSExpired, as mongod answers a maxTimeMS that passed
    MongoExecutionTimeoutException e = assertInstanceOf(MongoExecutionTimeoutException.class, error,
        when + ": an error reply from the proxy, not a broken socket: " + error);
    System.out.println("[faults] mongodb " + when + ": code " + e.getCode() + " " + oneLine(e));
    assertEquals(50, e.getCode(), when + ": MaxTimeMSExpired: " + e);
    assertTrue(e.getMessage().contains("mproxy: timeout group=default " + setting), when + ": " + e);
  }

  @Override
  FaultClient connect(int port) {
    MongoClient client = MongoClients.create(MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + port))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .applyToSocketSettings(s -> s.connectTimeout(10, TimeUnit.SECONDS).readTimeout(90, TimeUnit.SECONDS))
        .applyToConnectionPoolSettings(p -> p.maxWaitTime(30, TimeUnit.SECONDS))
        .retryWrites(false)
        .retryReads(false)
        .build());
    MongoCollection<Document> docs = client.getDatabase("faults").getCollection("docs");
    return new FaultClient() {
      @Override
      public String roundTrip() {
        docs.insertOne(new Document("at", System.nanoTime()));
        return Long.toString(docs.countDocuments());
      }

      @Override
      public CompletableFuture<String> slow(int seconds) {
        return CompletableFuture.supplyAsync(() -> String.valueOf(docs.find().first()), slowRequests);
      }

      @Override
      public void close() {
        client.close();
      }
    };
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    MongoServerException e = assertInstanceOf(MongoServerException.class, error,
        when + ": an error reply from the proxy, not a broken socket: " + error);
    System.out.println("[faults] mongodb " + when + ": code " + e.getCode() + " " + oneLine(e));
    assertEquals(133, e.getCode(), when + ": FailedToSatisfyReadPreference, as mongos says it: " + e);
    assertTrue(e.getMessage().contains("mproxy: "), when + ": " + e);
  }
}

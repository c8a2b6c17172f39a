package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ReadPreference;
import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * Routing state across backends: cursors continue on the backend that opened them, statements
 * of one transaction stay on one backend, secondary reads go to a replica. Each backend is its
 * own mongo-java-server, so a request routed to the wrong one fails or reads the wrong data.
 */
class MongoRoutingTest {

  @Test
  void getMoresGoToTheBackendThatOwnsTheCursor() throws Exception {
    try (MongoServer a = MongoServer.start(); MongoServer b = MongoServer.start()) {
      List<Document> docs = IntStream.range(0, 500).mapToObj(i -> new Document("_id", i)).toList();
      for (MongoServer m : List.of(a, b)) {
        try (MongoClient d = MongoClients.direct(m.connectionString())) {
          d.getDatabase("r").getCollection("c").insertMany(docs);
          d.getDatabase("r").getCollection("c").insertOne(new Document("_id", "who").append("server", m.address()));
        }
      }
      try (ProxyFixture proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(a.address())
              .backend(b.address(), "primary").render(), MongoProxyConfig.LISTENER);
          MongoClient c = MongoClients.through(proxy.port())) {
        MongoCollection<Document> coll = c.getDatabase("r").getCollection("c");
        Set<String> servers = new HashSet<>();
        for (int round = 0; round < 40; round++) {
          int n = 0;
          try (MongoCursor<Document> it = coll.find(new Document("_id", new Document("$type", "int")))
              .batchSize(10).iterator()) {
            while (it.hasNext()) {
              it.next();
              n++;
            }
          }
          assertEquals(500, n, "round " + round + ": all 50 batches arrived (getMore found its cursor)");
          servers.add(coll.find(eq("_id", "who")).first().getString("server"));
        }
        assertEquals(2, servers.size(), "both backends served requests: " + servers);
        try (MongoCursor<Document> it = coll.find().batchSize(5).iterator()) {
          it.next();
          // closing early sends killCursors to the owner; an unknown cursor would be an error
        }
      }
    }
  }

  @Test
  void transactionStatementsStayOnTheBackendThatStartedIt() throws Exception {
    try (MongoServer a = MongoServer.start(); MongoServer b = MongoServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(a.address())
            .backend(b.address(), "primary").render(), MongoProxyConfig.LISTENER);
        MongoClient c = MongoClients.through(proxy.port())) {
      MongoCollection<Document> coll = c.getDatabase("tx").getCollection("c");
      for (int i = 0; i < 20; i++) {
        try (ClientSession s = c.startSession()) {
          s.startTransaction();
          coll.insertOne(s, new Document("_id", "t" + i));
          for (int k = 0; k < 5; k++) {
            assertEquals("t" + i, coll.find(s, eq("_id", "t" + i)).first().getString("_id"),
                "transaction " + i + " reads its own insert on the backend that took it");
          }
          s.abortTransaction();
        }
      }
    }
  }

  @Test
  void secondaryReadsGoToAReplica() throws Exception {
    try (MongoServer primary = MongoServer.start(); MongoServer replica = MongoServer.start()) {
      for (MongoServer m : List.of(primary, replica)) {
        try (MongoClient d = MongoClients.direct(m.connectionString())) {
          d.getDatabase("s").getCollection("c").insertOne(new Document("_id", 1)
              .append("on", m == primary ? "primary" : "replica"));
        }
      }
      try (ProxyFixture proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(primary.address())
              .backend(replica.address(), "replica").render(), MongoProxyConfig.LISTENER);
          MongoClient c = MongoClients.through(proxy.port())) {
        MongoCollection<Document> coll = c.getDatabase("s").getCollection("c");
        for (int i = 0; i < 10; i++) {
          assertEquals("primary", coll.find(eq("_id", 1)).first().getString("on"));
          assertEquals("replica", coll.withReadPreference(ReadPreference.secondaryPreferred())
              .find(eq("_id", 1)).first().getString("on"));
          assertEquals("replica", coll.withReadPreference(ReadPreference.nearest())
              .find(eq("_id", 1)).first().getString("on"));
        }
        coll.insertOne(new Document("_id", 2));
        try (MongoClient d = MongoClients.direct(primary.connectionString())) {
          assertTrue(d.getDatabase("s").getCollection("c").find(eq("_id", 2)).first() != null,
              "writes go to the primary");
        }
      }
    }
  }
}

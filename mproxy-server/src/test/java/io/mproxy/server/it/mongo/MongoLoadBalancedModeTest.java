package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * A driver connecting with {@code loadBalanced=true} (the load-balancer support spec: no
 * monitoring, a {@code serviceId} in the handshake, cursors and transactions pinned to a
 * connection) works through the proxy: CRUD, a cursor over several batches, a session.
 */
class MongoLoadBalancedModeTest {

  @Test
  void loadBalancedDriverDoesCrudCursorsAndSessions() throws Exception {
    try (MongoServer mongo = MongoServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address()).render(),
            MongoProxyConfig.LISTENER);
        MongoClient c = MongoClients.direct("mongodb://127.0.0.1:" + proxy.port() + "/?loadBalanced=true")) {
      MongoCollection<Document> coll = c.getDatabase("lb").getCollection("c");
      coll.insertMany(IntStream.range(0, 300).mapToObj(i -> new Document("_id", i)).toList());
      int n = 0;
      try (MongoCursor<Document> it = coll.find().batchSize(50).iterator()) {
        while (it.hasNext()) {
          it.next();
          n++;
        }
      }
      assertEquals(300, n);
      try (ClientSession s = c.startSession()) {
        s.startTransaction();
        coll.insertOne(s, new Document("_id", "in-tx"));
        assertEquals("in-tx", coll.find(s, eq("_id", "in-tx")).first().getString("_id"));
        s.abortTransaction();
      }
      assertEquals(300, coll.countDocuments(new Document("_id", new Document("$type", "int"))));
    }
  }
}

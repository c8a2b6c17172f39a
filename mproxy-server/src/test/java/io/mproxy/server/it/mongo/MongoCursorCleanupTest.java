package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.MongoDatabase;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cursors of a client that went away are killed on the backend that holds them. mongo-java-server
 * reports no open-cursor count, so the check is the one a server gives anyone: a {@code getMore}
 * on the cursor id, sent straight to the backend on a connection of its own, reads documents
 * while the cursor lives and fails with CursorNotFound (43) once the proxy killed it.
 */
class MongoCursorCleanupTest {

  private static final int CURSOR_NOT_FOUND = 43;
  private static MongoServer mongo;
  private static ProxyFixture proxy;
  private static MongoClient direct;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address()).render(), MongoProxyConfig.LISTENER);
    direct = MongoClients.direct(mongo.connectionString());
    direct.getDatabase("cc").getCollection("c").insertMany(IntStream.range(0, 1000)
        .mapToObj(i -> new Document("_id", i)).toList());
  }

  @AfterAll
  static void stop() {
    try (MongoClient d = direct; ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy before the server
    }
  }

  /** A getMore straight to the backend: the documents of the next batch, or CursorNotFound. */
  private static List<?> getMoreOnBackend(long cursorId) {
    Document r = direct.getDatabase("cc").runCommand(new Document("getMore", cursorId)
        .append("collection", "c").append("batchSize", 1));
    return r.get("cursor", Document.class).getList("nextBatch", Object.class);
  }

  private static void assertKilledEventually(long cursorId) {
    Eventually.assertWithin(Duration.ofSeconds(20), () -> {
      MongoCommandException e = assertThrows(MongoCommandException.class, () -> getMoreOnBackend(cursorId),
          "cursor " + cursorId + " is still open on the backend");
      assertEquals(CURSOR_NOT_FOUND, e.getErrorCode(), e.getMessage());
    });
  }

  @Test
  void theCursorOfADriverThatWentAwayIsKilledOnItsBackend() {
    MongoClient client = MongoClients.through(proxy.port(), "leaves-a-cursor");
    MongoCursor<Document> left = client.getDatabase("cc").getCollection("c").find().batchSize(10).cursor();
    left.next();
    long leftId = left.getServerCursor().getId();
    assertNotEquals(0, leftId);

    try (MongoClient stays = MongoClients.through(proxy.port(), "keeps-a-cursor")) {
      MongoCursor<Document> kept = stays.getDatabase("cc").getCollection("c").find().batchSize(10).cursor();
      kept.next();
      long keptId = kept.getServerCursor().getId();

      assertEquals(1, getMoreOnBackend(leftId).size(), "the cursor is open on the backend while its client is there");
      client.close(); // without closing the cursor: as a crashed or careless client would
      assertKilledEventually(leftId);

      assertEquals(1, getMoreOnBackend(keptId).size(), "a cursor whose client is still connected is left alone");
      int n = 0;
      while (kept.hasNext()) {
        kept.next();
        n++;
      }
      assertEquals(1000 - 1 - 1, n, "the kept cursor reads on through the proxy");
    }
  }

  @Test
  void aCursorContinuedOnAnotherConnectionSurvivesTheFirstOnesClose() throws Exception {
    MongoDatabase viaDirect = direct.getDatabase("cc");
    long movedId;
    try (MongoWire b = new MongoWire(proxy.port())) {
      try (MongoWire a = new MongoWire(proxy.port())) {
        a.send(MongoWire.opMsg(1, 0, "{find: 'c', batchSize: 2, $db: 'cc'}"));
        BsonDocument found = a.read();
        movedId = found.getDocument("cursor").getNumber("id").longValue();
        b.send(MongoWire.opMsg(2, 0, "{getMore: {$numberLong: '" + movedId + "'}, collection: 'c', batchSize: 2, $db: 'cc'}"));
        assertEquals(2, b.read().getDocument("cursor").getArray("nextBatch").size(), "B continued A's cursor");
      }
      // A is gone, but B used the cursor last: it is B's now. Another client's orphan shows when
      // the proxy has reaped what A's close left behind.
      long orphanId;
      try (MongoWire c = new MongoWire(proxy.port())) {
        c.send(MongoWire.opMsg(3, 0, "{find: 'c', batchSize: 2, $db: 'cc'}"));
        orphanId = c.read().getDocument("cursor").getNumber("id").longValue();
      }
      assertKilledEventually(orphanId);
      b.send(MongoWire.opMsg(4, 0, "{getMore: {$numberLong: '" + movedId + "'}, collection: 'c', batchSize: 2, $db: 'cc'}"));
      BsonDocument more = b.read();
      assertEquals(1.0, more.getNumber("ok").doubleValue(), more.toJson());
      assertEquals(2, more.getDocument("cursor").getArray("nextBatch").size());
    }
    // and once B goes too, the cursor is reaped
    assertKilledEventually(movedId);
    assertEquals(1, viaDirect.getCollection("c").countDocuments(new Document("_id", 0)));
  }
}

package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.WriteConcern;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Malformed messages from one client — a length that lies, bad BSON, an oversized message, a
 * compressed message that was never negotiated — get one error reply and that client is
 * closed; a driver client working at the same time is unaffected. Also: a moreToCome
 * (unacknowledged) write is forwarded without a reply.
 */
class MongoMalformedMessagesTest {

  private static final int MAX = 64 * 1024;
  private static MongoServer mongo;
  private static ProxyFixture proxy;
  private static MongoClient client;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("max_frame_bytes: " + MAX).render(), MongoProxyConfig.LISTENER);
    client = MongoClients.through(proxy.port(), "bystander");
  }

  @AfterAll
  static void stop() {
    try (MongoClient c = client; ProxyFixture p = proxy; MongoServer m = mongo) {
      // in reverse
    }
  }

  private static void bystanderStillWorks(int i) {
    MongoCollection<Document> coll = client.getDatabase("m").getCollection("c");
    coll.insertOne(new Document("_id", "ok-" + i));
    assertEquals("ok-" + i, coll.find(new Document("_id", "ok-" + i)).first().getString("_id"));
  }

  @Test
  void eachMalformedMessageGetsAnErrorAndACloseWhileOthersWork() throws Exception {
    byte[] badBson = MongoWire.opMsg(1, 0, "{find: 'c', filter: {a: 1}, $db: 'm'}");
    badBson[16 + 4 + 1 + 4] = 0x42;
    byte[] lyingLength = MongoWire.opMsg(2, 0, "{ping: 1, $db: 'admin'}");
    ByteBuffer.wrap(lyingLength).order(ByteOrder.LITTLE_ENDIAN).putInt(0, lyingLength.length - 8);
    byte[] oversized = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(MAX + 1).putInt(3).putInt(0).putInt(2013).array();
    byte[] compressed = ByteBuffer.allocate(25).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(25).putInt(4).putInt(0).putInt(2012).putInt(2013).putInt(100).put((byte) 2).array();
    List<Object[]> cases = List.of(
        new Object[] {badBson, 22, 1},
        new Object[] {lyingLength, 22, 2},
        new Object[] {oversized, 10334, 3},
        new Object[] {compressed, 9, 4});
    int i = 0;
    for (Object[] c : cases) {
      try (MongoWire bad = new MongoWire(proxy.port())) {
        bad.send((byte[]) c[0]);
        BsonDocument err = bad.read();
        assertEquals(0, err.getNumber("ok").intValue());
        assertEquals((int) c[1], err.getInt32("code").getValue(), err.toJson());
        assertTrue(err.getString("errmsg").getValue().startsWith("mproxy: protocol error: "), err.toJson());
        assertTrue(bad.closedByPeer(), "the proxy closed the malformed client");
      }
      bystanderStillWorks(i++);
    }
    Eventually.assertWithin(Duration.ofSeconds(5), () -> assertTrue(
        proxy.status().path("listeners").path(0).path("client_connections").asInt() >= 1));
  }

  @Test
  void wellFormedRawMessagesStillWork() throws Exception {
    try (MongoWire raw = new MongoWire(proxy.port())) {
      raw.send(MongoWire.opMsg(10, 0, "{ping: 1, $db: 'admin'}"));
      assertEquals(1, raw.read().getNumber("ok").intValue());
      raw.send(MongoWire.opMsg(11, 0, "{insert: 'raw', documents: [{_id: 1}], $db: 'm'}"));
      assertEquals(1, raw.read().getNumber("n").intValue());
    }
  }

  @Test
  void unacknowledgedWriteIsForwardedWithoutAReply() throws Exception {
    MongoCollection<Document> coll = client.getDatabase("m").getCollection("w0")
        .withWriteConcern(WriteConcern.UNACKNOWLEDGED);
    for (int i = 0; i < 20; i++) {
      coll.insertOne(new Document("_id", i));
    }
    try (MongoClient direct = MongoClients.direct(mongo.connectionString())) {
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(20,
          direct.getDatabase("m").getCollection("w0").countDocuments()));
    }
    bystanderStillWorks(100);
  }
}

package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tenants by the driver's {@code appName}: a group with a tiny RU budget refuses the flooding
 * application with the documented error (no retryable label), while another application keeps
 * working, and the refused client's connection stays usable once the budget refills.
 */
class MongoTenantLimitsTest {

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .group("tiny", "{ ru_per_sec: 5, burst: 20, on_exhausted: reject }")
        .tenant("{ match: { application: flood }, group: tiny }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy first
    }
  }

  @Test
  void floodingAppIsRefusedWhileAnotherKeepsWorking() throws Exception {
    try (MongoClient flood = MongoClients.through(proxy.port(), "flood");
        MongoClient calm = MongoClients.through(proxy.port(), "calm")) {
      MongoCollection<Document> floodColl = flood.getDatabase("t").getCollection("c");
      MongoCollection<Document> calmColl = calm.getDatabase("t").getCollection("c");
      calmColl.insertOne(new Document("_id", 1).append("v", "x"));

      MongoCommandException refused = null;
      for (int i = 0; i < 200 && refused == null; i++) {
        try {
          floodColl.find(eq("_id", 1)).first();
        } catch (MongoCommandException e) {
          refused = e;
        }
      }
      assertNotNull(refused, "200 reads in a burst exceed a 20 RU burst");
      assertEquals(16500, refused.getErrorCode());
      assertEquals("RequestRateTooLarge", refused.getErrorCodeName());
      assertTrue(refused.getErrorMessage().startsWith("mproxy: rejected group=tiny reason=ru_limit retry_after_ms="),
          refused.getErrorMessage());
      assertTrue(refused.getErrorLabels().isEmpty(), "no error labels: " + refused.getErrorLabels());
      assertFalse(refused.getResponse().containsKey("errorLabels"));

      for (int i = 0; i < 50; i++) {
        assertEquals("x", calmColl.find(eq("_id", 1)).first().getString("v"), "the calm app is not limited");
      }
      assertTrue(proxy.metrics().sum("mproxy_requests_total", "group", "tiny", "outcome", "rejected") >= 1);
      assertEquals(0, proxy.metrics().sum("mproxy_requests_total", "group", "default", "outcome", "rejected"));

      Document back = null;
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (back == null && System.nanoTime() < deadline) {
        try {
          back = floodColl.find(eq("_id", 1)).first();
        } catch (MongoCommandException e) {
          assertEquals(16500, e.getErrorCode());
          Thread.sleep(Math.min(1000, Math.max(10, retryAfter(e))));
        }
      }
      assertNotNull(back, "the refused application's connection stays usable and works once refilled");
    }
  }

  private static long retryAfter(MongoCommandException e) {
    String m = e.getErrorMessage();
    int i = m.indexOf("retry_after_ms=");
    if (i < 0) {
      return 100;
    }
    int j = i + "retry_after_ms=".length();
    int k = j;
    while (k < m.length() && Character.isDigit(m.charAt(k))) {
      k++;
    }
    return Long.parseLong(m.substring(j, k));
  }
}

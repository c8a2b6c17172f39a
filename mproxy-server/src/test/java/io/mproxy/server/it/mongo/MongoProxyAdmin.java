package io.mproxy.server.it.mongo;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;

/** Reads of the admin API the Mongo tests share. */
final class MongoProxyAdmin {

  private MongoProxyAdmin() {
  }

  /** How many requests of one fingerprint {@code /api/fingerprints} has counted (0 if none). */
  static long fingerprintCount(ProxyFixture proxy, String fingerprint) {
    ProxyFixture.Http r = proxy.get("/api/fingerprints?top=1000");
    if (r.status() != 200) {
      throw new AssertionError("/api/fingerprints answered " + r.status() + ": " + r.body());
    }
    return find(r.json(), fingerprint);
  }

  private static long find(JsonNode node, String fingerprint) {
    if (node.isObject() && fingerprint.equals(node.path("fingerprint").asText())) {
      return node.path("count").asLong();
    }
    long total = 0;
    for (JsonNode child : node) {
      total += find(child, fingerprint);
    }
    return total;
  }

  /** Open connections of the cluster's pools per {@code /api/status} (idle + active + opening). */
  static int poolConnections(ProxyFixture proxy) {
    int n = 0;
    for (JsonNode c : proxy.status().path("clusters")) {
      if (!MongoProxyConfig.CLUSTER.equals(c.path("name").asText())) {
        continue;
      }
      for (JsonNode b : c.path("backends")) {
        JsonNode pool = b.path("pool");
        n += pool.path("idle").asInt() + pool.path("active").asInt() + pool.path("opening").asInt();
      }
    }
    return n;
  }
}

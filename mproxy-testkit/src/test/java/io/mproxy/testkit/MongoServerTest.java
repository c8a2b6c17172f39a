package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MongoServerTest {

  @Test
  void startsOnLoopbackAndCountsItsConnections() throws Exception {
    try (MongoServer mongo = MongoServer.start()) {
      assertEquals(MongoServer.HOST, mongo.host());
      assertTrue(mongo.port() > 0);
      assertEquals(0, mongo.currentConnections());
      try (Socket a = new Socket(mongo.host(), mongo.port()); Socket b = new Socket(mongo.host(), mongo.port())) {
        Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals(2, mongo.currentConnections()));
      }
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertEquals(0, mongo.currentConnections()));
    }
  }
}

package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProtocolFaultsContract} for Redis: real {@code redis-server}s, Lettuce as the client;
 * the slow request is {@code BLPOP} on an empty list.
 */
class RedisFaultsTest extends ProtocolFaultsContract {

  private RedisServer victim;
  private RedisServer other;
  private ClientResources resources;

  @Override
  String protocol() {
    return "redis";
  }

  @Override
  void startBackends() {
    victim = RedisServer.start();
    other = RedisServer.start();
    resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(1).build();
  }

  @Override
  void stopBackends() throws Exception {
    try (RedisServer v = victim; RedisServer o = other) {
      resources.shutdown(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
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
    victim.stop();
  }

  @Override
  void restartVictim() {
    victim.restart();
  }

  @Override
  String listenerYaml(String name, String cluster) {
    return "  - { name: " + name + ", protocol: redis, bind: 127.0.0.1:0, cluster: " + cluster + " }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: redis\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  FaultClient connect(int port) {
    RedisClient client = RedisClient.create(resources,
        RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(Duration.ofSeconds(90)).build());
    client.setOptions(ClientOptions.builder().autoReconnect(false)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
    StatefulRedisConnection<String, String> connection;
    try {
      connection = client.connect();
    } catch (RuntimeException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(5));
      throw e;
    }
    return new FaultClient() {
      @Override
      public String roundTrip() {
        return String.valueOf(connection.sync().incr("faults:counter"));
      }

      @Override
      public CompletableFuture<String> slow(int seconds) {
        return connection.async().blpop(seconds, "faults:empty").toCompletableFuture().thenApply(String::valueOf);
      }

      @Override
      public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(5));
      }
    };
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    RedisCommandExecutionException e = assertInstanceOf(RedisCommandExecutionException.class, error,
        when + ": " + error);
    assertTrue(e.getMessage().contains("mproxy:"), when + ": " + e.getMessage());
  }
}

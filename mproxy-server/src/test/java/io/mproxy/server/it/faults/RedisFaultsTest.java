package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.mproxy.testkit.RedisServer;
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
    return LettuceFaultClient.open(resources, port);
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    RedisCommandExecutionException e = assertInstanceOf(RedisCommandExecutionException.class, error,
        when + ": " + error);
    System.out.println("[faults] redis " + when + ": " + oneLine(e));
    assertTrue(e.getMessage().contains("mproxy:"), when + ": " + e.getMessage());
  }
}

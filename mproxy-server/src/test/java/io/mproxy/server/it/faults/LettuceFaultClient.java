package io.mproxy.server.it.faults;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link FaultClient} over Lettuce: {@code INCR} as the quick request, {@code BLPOP} on an
 * empty list as the slow one. No auto-reconnect, and commands are refused while disconnected,
 * so that a broken connection shows as an error rather than a silent retry.
 */
final class LettuceFaultClient implements FaultClient {

  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;

  private LettuceFaultClient(RedisClient client, StatefulRedisConnection<String, String> connection) {
    this.client = client;
    this.connection = connection;
  }

  static LettuceFaultClient open(ClientResources resources, int port) {
    RedisClient client = RedisClient.create(resources,
        RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(Duration.ofSeconds(90)).build());
    client.setOptions(ClientOptions.builder().autoReconnect(false)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
    try {
      return new LettuceFaultClient(client, client.connect());
    } catch (RuntimeException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(5));
      throw e;
    }
  }

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
}

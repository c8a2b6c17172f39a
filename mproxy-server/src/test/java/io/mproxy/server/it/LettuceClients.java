package io.mproxy.server.it;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce clients for one test class sharing one small set of event loops; {@link #close()}
 * shuts every client down, then the shared resources.
 */
final class LettuceClients implements AutoCloseable {

  private final ClientResources resources = DefaultClientResources.builder()
      .ioThreadPoolSize(2)
      .computationThreadPoolSize(2)
      .build();
  private final List<RedisClient> clients = new ArrayList<>();

  /** A client of {@code uri} with Lettuce's default options (RESP3 via {@code HELLO 3}, auto-reconnect). */
  synchronized RedisClient client(RedisURI uri) {
    return client(uri, ClientOptions.builder().build());
  }

  /** A client of {@code uri} speaking {@code version}. */
  synchronized RedisClient client(RedisURI uri, ProtocolVersion version) {
    return client(uri, ClientOptions.builder().protocolVersion(version).build());
  }

  synchronized RedisClient client(RedisURI uri, ClientOptions options) {
    RedisClient c = RedisClient.create(resources, uri);
    c.setOptions(options);
    clients.add(c);
    return c;
  }

  @Override
  public synchronized void close() throws Exception {
    for (RedisClient c : clients) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(5));
    }
    clients.clear();
    resources.shutdown(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
  }
}

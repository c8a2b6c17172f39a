package io.mproxy.testkit;

import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A MongoDB wire-protocol server for integration tests, on a loopback port.
 *
 * <ul>
 *   <li>{@link #start()}: {@code mongo-java-server} in this JVM with its memory backend (no
 *       Docker, no download; starts in well under a second). It speaks OP_MSG and the legacy
 *       OP_QUERY handshake and advertises wire versions 0–8; it has no {@code hello}, no SCRAM,
 *       no compression and no transactions, so those are tested between client and proxy only.</li>
 *   <li>{@link #startMongod(String)}: a real {@code mongod} in a Docker container through
 *       Testcontainers, for the checks the in-JVM server cannot give (backend SCRAM,
 *       transactions on a replica set). It needs a Docker engine and fails loudly without one;
 *       no test in the default build depends on it (this machine has no Docker engine).</li>
 * </ul>
 */
public final class MongoServer implements AutoCloseable {

  /** The address every in-JVM instance binds. */
  public static final String HOST = "127.0.0.1";

  private final de.bwaldvogel.mongo.MongoServer server;
  private final MemoryBackend backend;
  private final AutoCloseable container;
  private final String host;
  private final int port;

  private MongoServer(de.bwaldvogel.mongo.MongoServer server, MemoryBackend backend,
      AutoCloseable container, String host, int port) {
    this.server = server;
    this.backend = backend;
    this.container = container;
    this.host = host;
    this.port = port;
  }

  /** Starts an in-JVM server with an empty memory backend on a free loopback port. */
  public static MongoServer start() {
    MemoryBackend backend = new MemoryBackend();
    de.bwaldvogel.mongo.MongoServer server = new de.bwaldvogel.mongo.MongoServer(backend);
    try {
      server.bind(HOST, 0);
    } catch (RuntimeException e) {
      server.shutdownNow();
      throw new IllegalStateException("mongo-java-server could not bind " + HOST + ": " + e, e);
    }
    InetSocketAddress a = server.getLocalAddress();
    return new MongoServer(server, backend, null, HOST, a.getPort());
  }

  /**
   * Starts a real {@code mongod} ({@code image}, e.g. {@code mongo:7.0}) as a single-node replica
   * set in Docker through Testcontainers. Fails with the reason when no Docker engine answers.
   */
  public static MongoServer startMongod(String image) {
    if (!dockerAvailable()) {
      throw new IllegalStateException("startMongod needs a Docker engine (none at /var/run/docker.sock"
          + " or DOCKER_HOST); use MongoServer.start() for the in-JVM server");
    }
    org.testcontainers.containers.MongoDBContainer c =
        new org.testcontainers.containers.MongoDBContainer(
            org.testcontainers.utility.DockerImageName.parse(image).asCompatibleSubstituteFor("mongo"))
            .withStartupTimeout(Duration.ofMinutes(2));
    c.start();
    return new MongoServer(null, null, c::stop, c.getHost(), c.getMappedPort(27017));
  }

  /** Whether a Docker engine looks reachable (the socket exists or DOCKER_HOST is set). */
  public static boolean dockerAvailable() {
    String env = System.getenv("DOCKER_HOST");
    return (env != null && !env.isBlank()) || Files.exists(Path.of("/var/run/docker.sock"));
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** {@code host:port}, as the proxy's config wants it. */
  public String address() {
    return host + ":" + port;
  }

  /** {@code mongodb://host:port} for a driver connecting directly. */
  public String connectionString() {
    return "mongodb://" + address();
  }

  /**
   * Client connections open on the in-JVM server now. Its {@code serverStatus} reports a constant
   * {@code connections.current: 1}, so this counts the child channels in the server's own channel
   * group (a private field, read reflectively: the server offers no public count).
   */
  public int currentConnections() {
    if (server == null) {
      throw new IllegalStateException("currentConnections() is for the in-JVM server; ask mongod's"
          + " serverStatus through a driver");
    }
    try {
      java.lang.reflect.Field f = de.bwaldvogel.mongo.MongoServer.class.getDeclaredField("channelGroup");
      f.setAccessible(true);
      io.netty.channel.group.ChannelGroup group = (io.netty.channel.group.ChannelGroup) f.get(server);
      int n = 0;
      for (io.netty.channel.Channel ch : group) {
        if (!(ch instanceof io.netty.channel.ServerChannel) && ch.isActive()) {
          n++;
        }
      }
      return n;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("mongo-java-server changed: no channelGroup field to count"
          + " connections with", e);
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdownNow();
    }
    if (container != null) {
      try {
        container.close();
      } catch (Exception e) {
        throw new IllegalStateException("stopping the mongod container failed", e);
      }
    }
  }
}

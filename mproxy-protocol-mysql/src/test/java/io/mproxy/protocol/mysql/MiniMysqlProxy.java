package io.mproxy.protocol.mysql;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
import io.mproxy.testkit.MariaDbServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The MySQL listener and cluster wired as the daemon wires them (the protocol adapter's client
 * pipeline, a real {@link Cluster} with its pool and the MySQL connector logging in to a real
 * MariaDB, the core gateway), on real sockets, with a chosen number of event loops, pool size and
 * resource group. The clock is the system's, counted: every reading of the monotonic time the
 * proxy takes is counted, so tests can tell how many readings a command costs. The cluster's
 * scheduler is manual, so pool upkeep and health probes never run: connections open on demand.
 */
final class MiniMysqlProxy implements ListenerContext, AutoCloseable {

  static final String USER = "client";
  static final String PASSWORD = "client-secret";

  private final AtomicLong clockReadings = new AtomicLong();
  /** The system's monotonic time, counting how often anything reads it. */
  private final Clock clock = new Clock() {
    @Override
    public long nanoTime() {
      clockReadings.incrementAndGet();
      return System.nanoTime();
    }

    @Override
    public long wallMillis() {
      return System.currentTimeMillis();
    }
  };
  private final ListenerConfig config;
  private final Gateway gateway;
  private final Cluster cluster;
  private final EventLoopGroup loops;
  private final Channel server;
  private final Map<Outcome, AtomicLong> outcomes = new EnumMap<>(Outcome.class);
  private final AtomicLong queueWaits = new AtomicLong();

  /** In front of {@code db}, with an unlimited default resource group. */
  MiniMysqlProxy(MariaDbServer db, int eventLoops, int poolSize) throws InterruptedException {
    this(db, eventLoops, poolSize, ResourceGroupConfig.unlimitedDefault());
  }

  /** In front of {@code db}, every client in {@code group} (its name must be the default group's). */
  MiniMysqlProxy(MariaDbServer db, int eventLoops, int poolSize, ResourceGroupConfig group)
      throws InterruptedException {
    this(db.host(), db.port(), eventLoops, poolSize, group);
  }

  /**
   * For sessions tested without a backend (commands the proxy answers itself): the cluster
   * points at a loopback port nothing is asked to connect to.
   */
  static MiniMysqlProxy withoutBackend() throws InterruptedException {
    return new MiniMysqlProxy("127.0.0.1", 9, 1, 1, ResourceGroupConfig.unlimitedDefault());
  }

  private MiniMysqlProxy(String backendHost, int backendPort, int eventLoops, int poolSize,
      ResourceGroupConfig group) throws InterruptedException {
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, new AtomicLong());
    }
    AuthConfig auth = new AuthConfig(AuthConfig.Mode.TERMINATE,
        List.of(new AuthConfig.UserConfig(USER, PASSWORD, null)));
    config = new ListenerConfig("mysql", "mysql", new HostPort("127.0.0.1", 0), "c", auth, 100,
        64 * 1024 * 1024, Map.of());
    ClusterConfig cc = new ClusterConfig("c", "mysql", new Credentials(MariaDbServer.USER, MariaDbServer.PASSWORD),
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("transaction", 0, poolSize, 50, 60_000, 5_000, 20_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of(MysqlProtocolAdapter.DATABASE, MariaDbServer.DATABASE));
    ProxyConfig pc = new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(config),
        Map.of("c", cc), Map.of(group.name(), group), List.of());
    gateway = new Gateway(pc, clock, new CountingTelemetry(), new FingerprintStore(100));
    loops = new MultiThreadIoEventLoopGroup(eventLoops, NioIoHandler.newFactory());
    Bootstrap backends = new Bootstrap().group(loops).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true);
    RandomSource random = new RandomSource() {
      @Override
      public int nextInt(int bound) {
        return 0;
      }

      @Override
      public double nextDouble() {
        return 0;
      }
    };
    cluster = new Cluster(cc, new MysqlBackendConnector(cc), backends, clock,
        new ManualScheduler(new ManualClock()), random);
    MysqlProtocolAdapter adapter = new MysqlProtocolAdapter();
    ListenerContext self = this;
    server = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            adapter.initClientChannel(ch, self);
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** How many times the proxy has read the monotonic clock so far. */
  long clockReadings() {
    return clockReadings.get();
  }

  /** Requests that ended with {@code outcome} so far. */
  long completed(Outcome outcome) {
    return outcomes.get(outcome).get();
  }

  /** Requests that waited in a resource group's queue so far. */
  long queueWaits() {
    return queueWaits.get();
  }

  /** Requests waiting for a pooled connection right now, over every pool of the cluster. */
  int waitingForConnection() {
    int n = 0;
    for (Map<String, BackendPool> pools : cluster.pools().values()) {
      for (BackendPool p : pools.values()) {
        n += p.waiting();
      }
    }
    return n;
  }

  @Override
  public ListenerConfig config() {
    return config;
  }

  @Override
  public Origin origin() {
    return new Origin(config.name(), config.protocol());
  }

  @Override
  public Gateway gateway() {
    return gateway;
  }

  @Override
  public Cluster cluster() {
    return cluster;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    cluster.close();
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
  }

  /** Counts how requests ended and how many waited in a queue; the rest of telemetry is not looked at. */
  private final class CountingTelemetry implements Telemetry {
    @Override
    public void requestCompleted(String listener, String protocol, String group, Outcome outcome,
        long durationNanos) {
      outcomes.get(outcome).incrementAndGet();
    }

    @Override
    public void ruCharged(String group, boolean write, double ru) {
    }

    @Override
    public void shed(String group, Priority priority, io.mproxy.core.request.ShedReason reason) {
    }

    @Override
    public void queueWait(String group, Priority priority, long nanos) {
      queueWaits.incrementAndGet();
    }
  }

}

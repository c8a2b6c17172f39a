package io.mproxy.protocol.postgres;

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
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.core.time.Clock;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.ManualScheduler;
import io.mproxy.core.time.RandomSource;
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
 * A PostgreSQL listener and cluster wired as the daemon wires them (the adapter's client
 * pipeline, a real {@link Cluster} with its pool and the PostgreSQL connector, the core gateway),
 * on real sockets in front of a real server, in transaction pool mode, clients logging in with
 * md5 as user {@code app}. The clock is manual and counts its readings, so a test can see how
 * often the forward path reads the time; the scheduler is manual, so pool upkeep and health
 * probes never run and connections open on demand.
 */
final class PgMiniProxy implements ListenerContext, AutoCloseable {

  static final String USER = "app";
  static final String PASSWORD = "secret";

  private final ManualClock manual = new ManualClock();
  private final AtomicLong clockReadings = new AtomicLong();
  /** The manual clock, counting how often anything reads its monotonic time. */
  private final Clock clock = new Clock() {
    @Override
    public long nanoTime() {
      clockReadings.incrementAndGet();
      return manual.nanoTime();
    }

    @Override
    public long wallMillis() {
      return manual.wallMillis();
    }
  };
  private final ListenerConfig config;
  private final Gateway gateway;
  private final Cluster cluster;
  private final EventLoopGroup loops;
  private final Channel server;
  private final Map<Outcome, AtomicLong> outcomes = new EnumMap<>(Outcome.class);

  /**
   * @param backendUser the role the proxy logs in to the server as (its password is
   *     {@link #PASSWORD}), in database {@code database}
   */
  PgMiniProxy(String backendHost, int backendPort, String backendUser, String database, int eventLoops,
      int poolSize) throws InterruptedException {
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, new AtomicLong());
    }
    AuthConfig auth = new AuthConfig(AuthConfig.Mode.TERMINATE,
        List.of(new AuthConfig.UserConfig(USER, PASSWORD, null)));
    config = new ListenerConfig("pg", "postgres", new HostPort("127.0.0.1", 0), "c", auth, 1000,
        64 * 1024 * 1024, Map.of("auth_method", "md5"));
    ClusterConfig cc = new ClusterConfig("c", "postgres", new Credentials(backendUser, PASSWORD),
        List.of(new BackendConfig(new HostPort(backendHost, backendPort), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, new PoolConfig("transaction", 0, poolSize, 50, 60_000, 5_000, 5_000),
        RuWeights.DEFAULT, HealthConfig.DEFAULT, Map.of("database", database));
    ResourceGroupConfig group = new ResourceGroupConfig(ResourceGroupConfig.DEFAULT_GROUP, 1e12, 1e12,
        Priority.NORMAL, ResourceGroupConfig.OnExhausted.REJECT, 0, 0, 1e12);
    ProxyConfig pc = new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(config),
        Map.of("c", cc), Map.of(ResourceGroupConfig.DEFAULT_GROUP, group), List.of());
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
    PgProtocolAdapter adapter = new PgProtocolAdapter();
    cluster = new Cluster(cc, adapter.backendConnector(cc), backends, clock, new ManualScheduler(manual), random);
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

  /** Counts how requests ended; the rest of telemetry is not looked at. */
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
    public void shed(String group, Priority priority, ShedReason reason) {
    }

    @Override
    public void queueWait(String group, Priority priority, long nanos) {
    }
  }
}

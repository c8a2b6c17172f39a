package io.mproxy.core.testing;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.admission.Origin;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.spi.ListenerContext;
import io.mproxy.core.spi.ProtocolAdapter;
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
 * One listener and its cluster wired as the daemon wires them — the protocol adapter's client
 * pipeline, a real {@link Cluster} with its pool and the adapter's backend connector, the core
 * gateway — on real loopback sockets, for testing a protocol's forward path end to end without
 * the server module. Every reading of the monotonic clock is counted, and so is how requests
 * ended and how many waited in a queue. The cluster's scheduler is manual, so pool upkeep and
 * health probes never run: connections open on demand. P2C's randomness is fixed at 0.
 */
public final class LoopbackListener implements ListenerContext, AutoCloseable {

  private final AtomicLong clockReadings = new AtomicLong();
  private final Clock clock;
  private final ListenerConfig config;
  private final Gateway gateway;
  private final Cluster cluster;
  private final EventLoopGroup loops;
  private final Channel server;
  private final Map<Outcome, AtomicLong> outcomes = new EnumMap<>(Outcome.class);
  private final AtomicLong queueWaits = new AtomicLong();

  /**
   * Binds {@code listener} (its bind address is ignored: an ephemeral loopback port) in front of
   * {@code cluster}, with {@code group} as the only resource group, on {@code eventLoops} NIO
   * event loops; {@code time} is the clock every component reads (counted).
   */
  public LoopbackListener(ProtocolAdapter adapter, ListenerConfig listener, ClusterConfig cluster,
      ResourceGroupConfig group, int eventLoops, Clock time) throws InterruptedException {
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, new AtomicLong());
    }
    this.clock = new Clock() {
      @Override
      public long nanoTime() {
        clockReadings.incrementAndGet();
        return time.nanoTime();
      }

      @Override
      public long wallMillis() {
        return time.wallMillis();
      }
    };
    this.config = listener;
    ProxyConfig pc = new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(listener),
        Map.of(cluster.name(), cluster), Map.of(group.name(), group), List.of());
    this.gateway = new Gateway(pc, clock, new CountingTelemetry(), new FingerprintStore(100));
    this.loops = new MultiThreadIoEventLoopGroup(eventLoops, NioIoHandler.newFactory());
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
    this.cluster = new Cluster(cluster, adapter.backendConnector(cluster), backends, clock,
        new ManualScheduler(new ManualClock()), random);
    ListenerContext self = this;
    this.server = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            adapter.initClientChannel(ch, self);
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
  }

  /** The loopback port clients connect to. */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** How many times the proxy has read the monotonic clock so far. */
  public long clockReadings() {
    return clockReadings.get();
  }

  /** Requests that ended with {@code outcome} so far. */
  public long completed(Outcome outcome) {
    return outcomes.get(outcome).get();
  }

  /** Requests that waited in a resource group's queue so far. */
  public long queueWaits() {
    return queueWaits.get();
  }

  /** Requests waiting for a pooled connection right now, over every pool of the cluster. */
  public int waitingForConnection() {
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

  /** Counts how requests ended and how many waited in a queue; the rest is not looked at. */
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
      queueWaits.incrementAndGet();
    }
  }
}

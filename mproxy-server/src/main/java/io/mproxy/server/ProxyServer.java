package io.mproxy.server;

import io.mproxy.core.admission.Gateway;
import io.mproxy.core.balance.Backend;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.FleetConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.fingerprint.FingerprintStore;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.core.telemetry.SlottedThreadFactory;
import io.mproxy.core.telemetry.Telemetry;
import io.mproxy.gossip.FleetNode;
import io.mproxy.gossip.FleetShares;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: event loops, one {@link Cluster} per configured cluster, one bound socket
 * per listener, the core {@link Gateway} and its RU ticker. {@link #apply} swaps in a new
 * configuration, rebuilding only what changed: group limits and cluster weights change in
 * place (live connections see them at once), a cluster whose backends changed is rebuilt, a
 * listener whose address changed is rebound.
 */
public final class ProxyServer implements RuntimeView, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

  private final Map<String, ProtocolAdapter> adapters;
  private final SystemTime time = new SystemTime();
  private final Transport transport;
  private final EventLoopGroup workers;
  private final Class<? extends ServerChannel> serverChannelClass;
  private final Bootstrap backendBootstrap;
  private final Gateway gateway;
  private final Map<String, Cluster> clusters = new LinkedHashMap<>();
  private final Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
  private final long startedNanos;
  private volatile ProxyConfig config;
  private volatile long generation = 1;
  private volatile boolean ready;
  private volatile boolean draining;
  private io.mproxy.core.time.Scheduler.Cancellable ticker;
  private volatile FleetNode fleet;
  private final ClientEvents clientEvents;

  public ProxyServer(ProxyConfig config, Collection<ProtocolAdapter> adapterList, Telemetry telemetry) {
    this(config, adapterList, telemetry, ClientEvents.NONE);
  }

  /** @param clientEvents where refused connections and failed logins are counted */
  public ProxyServer(ProxyConfig config, Collection<ProtocolAdapter> adapterList, Telemetry telemetry,
      ClientEvents clientEvents) {
    this.clientEvents = clientEvents;
    this.config = config;
    Map<String, ProtocolAdapter> byName = new LinkedHashMap<>();
    adapterList.forEach(a -> byName.put(a.protocol(), a));
    this.adapters = Map.copyOf(byName);
    int threads = config.server().ioThreads() > 0 ? config.server().ioThreads()
        : Runtime.getRuntime().availableProcessors();
    this.transport = Transport.select(config.server().transport());
    this.workers = new MultiThreadIoEventLoopGroup(threads,
        new SlottedThreadFactory(MultiThreadIoEventLoopGroup.class), transport.ioHandlerFactory());
    this.serverChannelClass = transport.serverChannel();
    this.backendBootstrap = new Bootstrap().group(workers).channel(transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true);
    this.gateway = new Gateway(config, time, telemetry, new FingerprintStore(10_000));
    this.startedNanos = time.nanoTime();
    LOG.info("transport {} (server.transport: {}), {} event loops", transport, config.server().transport(), threads);
  }

  /** Builds the clusters, starts the RU ticker and binds every listener (blocking; not on an event loop). */
  public synchronized void start() throws InterruptedException {
    for (ClusterConfig cc : config.clusters().values()) {
      clusters.put(cc.name(), newCluster(cc));
    }
    long tick = TimeUnit.MILLISECONDS.toNanos(config.server().ruTickMs());
    ticker = time.scheduleAtFixedRate(gateway::tick, tick);
    Optional<FleetConfig> fleetConfig = config.fleet();
    if (fleetConfig.isPresent()) {
      fleet = FleetNode.start(fleetConfig.get(), gateway.groups(), time, time);
    }
    for (ListenerConfig lc : config.listeners()) {
      bind(lc);
    }
    ready = true;
  }

  private Cluster newCluster(ClusterConfig cc) {
    ProtocolAdapter adapter = adapter(cc.protocol());
    Cluster c = new Cluster(cc, adapter.backendConnector(cc), backendBootstrap, time, time, time);
    c.start();
    return c;
  }

  private ProtocolAdapter adapter(String protocol) {
    ProtocolAdapter a = adapters.get(protocol);
    if (a == null) {
      throw new IllegalStateException("no protocol adapter for '" + protocol + "'");
    }
    return a;
  }

  private void bind(ListenerConfig lc) throws InterruptedException {
    ProtocolAdapter adapter = adapter(lc.protocol());
    ChannelGroup channels = new DefaultChannelGroup(lc.name(), GlobalEventExecutor.INSTANCE);
    ListenerRuntime rt = new ListenerRuntime(lc, adapter, clusters.get(lc.cluster()), gateway, time, channels,
        clientEvents);
    ServerBootstrap sb = new ServerBootstrap()
        .group(workers)
        .channel(serverChannelClass)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            accept(rt, ch);
          }
        });
    InetSocketAddress address = new InetSocketAddress(lc.bind().host(), lc.bind().port());
    Channel server = sb.bind(address).sync().channel();
    rt.serverChannel(server);
    listeners.put(lc.name(), rt);
    LOG.info("listener {} ({}) on {} -> cluster {}", lc.name(), lc.protocol(), server.localAddress(), lc.cluster());
  }

  /**
   * Admits a new client connection, or refuses it in the protocol's own terms: while draining,
   * over {@code max_accepts_per_sec}, or at {@code max_client_connections} (only admitted
   * connections are counted, so refusals in flight never crowd out the next good client). An
   * admitted connection must complete its protocol's login within {@code handshake_timeout_ms}.
   */
  private void accept(ListenerRuntime rt, Channel ch) {
    ListenerConfig lc = rt.config();
    int max = lc.maxClientConnections();
    if (draining) {
      refuse(rt, ch, ClientEvents.RefusalReason.DRAINING, "mproxy: shutting down, connect to another node");
      return;
    }
    if (!rt.tryAccept()) {
      refuse(rt, ch, ClientEvents.RefusalReason.ACCEPT_RATE, "mproxy: too many new connections on listener "
          + lc.name() + " (max_accepts_per_sec=" + lc.clientLimits().maxAcceptsPerSec() + "), retry in 1 s");
      return;
    }
    if (!rt.tryTakeSlot(max)) {
      refuse(rt, ch, ClientEvents.RefusalReason.MAX_CONNECTIONS, "mproxy: too many client connections on listener "
          + lc.name() + " (max_client_connections=" + max + ")");
      return;
    }
    ch.closeFuture().addListener(f -> rt.clientCounter().decrementAndGet());
    rt.clientChannels().add(ch);
    String name = lc.name();
    long timeout = lc.clientLimits().handshakeTimeoutMs();
    ch.pipeline().addFirst(HandshakeTimeout.NAME, new HandshakeTimeout(
        new io.mproxy.core.time.EventLoopScheduler(ch.eventLoop()), timeout,
        ctx -> rt.adapter().connectionRefusal(ctx.alloc(),
            "mproxy: login not completed within handshake_timeout_ms=" + timeout + " on listener " + name),
        () -> rt.events().connectionRefused(name, ClientEvents.RefusalReason.HANDSHAKE_TIMEOUT)));
    rt.adapter().initClientChannel(ch, rt);
  }

  /** The longest a refused connection may stay open waiting to be told (MongoDB, CQL answer its first message). */
  static final long MAX_REFUSAL_MILLIS = 2_000;

  private static void refuse(ListenerRuntime rt, Channel ch, ClientEvents.RefusalReason reason, String why) {
    rt.events().connectionRefused(rt.config().name(), reason);
    long bound = Math.min(MAX_REFUSAL_MILLIS, rt.config().clientLimits().handshakeTimeoutMs());
    new io.mproxy.core.time.EventLoopScheduler(ch.eventLoop()).schedule(ch::close,
        TimeUnit.MILLISECONDS.toNanos(bound));
    rt.adapter().refuseClientChannel(ch, rt, why);
  }

  /**
   * Applies a validated configuration. Returns the new generation. Listener binds that fail leave
   * that listener as it was (and are reported by the exception).
   */
  public synchronized long apply(ProxyConfig next) throws InterruptedException {
    ProxyConfig prev = this.config;
    List<Cluster> retired = new ArrayList<>();
    for (ClusterConfig cc : next.clusters().values()) {
      Cluster existing = clusters.get(cc.name());
      if (existing == null) {
        clusters.put(cc.name(), newCluster(cc));
      } else if (existing.config().equals(cc)) {
        continue;
      } else if (existing.canReconfigure(cc)) {
        existing.reconfigure(cc);
      } else {
        clusters.put(cc.name(), newCluster(cc));
        retired.add(existing);
      }
    }
    for (String name : new ArrayList<>(clusters.keySet())) {
      if (!next.clusters().containsKey(name)) {
        retired.add(clusters.remove(name));
      }
    }
    gateway.reconfigure(next, generation + 1);
    applyFleet(prev, next);
    for (ListenerConfig lc : next.listeners()) {
      ListenerRuntime rt = listeners.get(lc.name());
      if (rt != null && rt.config().bind().equals(lc.bind()) && rt.config().protocol().equals(lc.protocol())) {
        rt.update(lc, clusters.get(lc.cluster()));
        continue;
      }
      if (rt != null) {
        closeListener(rt);
        listeners.remove(lc.name());
      }
      bind(lc);
    }
    for (String name : new ArrayList<>(listeners.keySet())) {
      if (next.listener(name).isEmpty()) {
        closeListener(listeners.remove(name));
      }
    }
    retired.forEach(Cluster::close);
    this.config = next;
    this.generation = generation + 1;
    if (!prev.server().equals(next.server())) {
      LOG.warn("server: settings change on restart only (shutdown_grace_ms, io_threads, ru_tick_ms, transport);"
          + " still running on transport {}", transport);
    }
    LOG.info("configuration generation {} applied", generation);
    return generation;
  }

  /**
   * The live keys of {@code cluster:} apply now, and shares are recomputed at once so that a new
   * or changed group never runs on its whole global limit until the next round; adding or removing
   * the section, {@code bind}, {@code seeds} and {@code gossip_interval_ms} need a restart.
   */
  private void applyFleet(ProxyConfig prev, ProxyConfig next) {
    FleetNode node = fleet;
    if (node != null && next.fleet().isPresent()) {
      node.reconfigure(next.fleet().get());
      node.refresh();
      return;
    }
    if (node != null) {
      node.refresh();
    }
    if (prev.fleet().isPresent() != next.fleet().isPresent()) {
      LOG.warn("cluster: adding or removing the cluster: section takes effect on restart; {}",
          node != null ? "this node keeps sharing with its fleet" : "this node stays alone");
    }
  }

  /** This node's fleet membership, when the config has a {@code cluster:} section. */
  public Optional<FleetNode> fleet() {
    return Optional.ofNullable(fleet);
  }

  @Override
  public Optional<FleetShares.Snapshot> fleetSnapshot() {
    FleetNode node = fleet;
    return node == null ? Optional.empty() : Optional.of(node.snapshot());
  }

  private void closeListener(ListenerRuntime rt) {
    Channel server = rt.serverChannel();
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    rt.clientChannels().close();
  }

  /**
   * Graceful stop: refuse new connections, let requests in flight finish for at most
   * {@code graceMillis}, then close everything.
   */
  public void shutdown(long graceMillis) {
    List<ListenerRuntime> all;
    synchronized (this) {
      if (draining) {
        return;
      }
      draining = true;
      all = new ArrayList<>(listeners.values());
    }
    LOG.info("draining: no new connections; waiting up to {} ms for {} requests in flight",
        graceMillis, inflight());
    for (ListenerRuntime rt : all) {
      Channel server = rt.serverChannel();
      if (server != null) {
        server.close().syncUninterruptibly();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    while (inflight() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    close();
  }

  /** Requests currently at a backend, over all clusters. */
  public int inflight() {
    int n = 0;
    synchronized (this) {
      for (Cluster c : clusters.values()) {
        for (Backend b : c.backends()) {
          n += b.inflight();
        }
      }
    }
    return n;
  }

  @Override
  public synchronized void close() {
    ready = false;
    draining = true;
    if (ticker != null) {
      ticker.cancel();
    }
    FleetNode node = fleet;
    if (node != null) {
      node.close();
    }
    for (ListenerRuntime rt : listeners.values()) {
      Channel server = rt.serverChannel();
      if (server != null) {
        server.close();
      }
      closeAfterFlush(rt.clientChannels());
    }
    clusters.values().forEach(Cluster::close);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    time.close();
  }

  /**
   * Closes client connections from their own event loops after flushing what they have been
   * written: a reply written in the same task that completed the last request still goes out.
   */
  private static void closeAfterFlush(ChannelGroup channels) {
    List<io.netty.channel.ChannelFuture> closing = new ArrayList<>();
    for (Channel ch : channels) {
      closing.add(ch.closeFuture());
      ch.eventLoop().execute(() ->
          ch.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (io.netty.channel.ChannelFuture f : closing) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !f.awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
        break;
      }
    }
    channels.close();
  }

  /** The port a listener is bound to (useful when the config asked for port 0). */
  public synchronized int listenerPort(String name) {
    ListenerRuntime rt = listeners.get(name);
    return rt == null ? -1 : rt.boundPort();
  }

  public ProxyConfig config() {
    return config;
  }

  public EventLoopGroup eventLoops() {
    return workers;
  }

  @Override
  public String transport() {
    return transport.setting();
  }

  // ---------------------------------------------------------------- RuntimeView

  @Override
  public String version() {
    return io.mproxy.server.cli.MproxyVersion.version();
  }

  @Override
  public long generation() {
    return generation;
  }

  @Override
  public long startedNanos() {
    return startedNanos;
  }

  @Override
  public synchronized List<ListenerView> listeners() {
    List<ListenerView> out = new ArrayList<>();
    listeners.values().forEach(rt -> out.add(rt.view()));
    return out;
  }

  @Override
  public synchronized Collection<Cluster> clusters() {
    return List.copyOf(clusters.values());
  }

  @Override
  public Gateway gateway() {
    return gateway;
  }

  @Override
  public List<String> members() {
    FleetNode node = fleet;
    return node != null ? node.members() : List.of(config.admin().bind().toString());
  }

  @Override
  public boolean ready() {
    return ready && !draining;
  }
}

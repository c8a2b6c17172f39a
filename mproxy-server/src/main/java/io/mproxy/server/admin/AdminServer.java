package io.mproxy.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.config.AdminConfig;
import io.mproxy.server.RuntimeView;
import io.mproxy.server.Transport;
import io.mproxy.server.usage.UsageMeter;
import io.mproxy.server.metrics.RuntimeGauges;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The admin HTTP endpoint of CONTRACT.md: {@code GET /metrics}, {@code /healthz},
 * {@code /api/status}, {@code /api/fingerprints?top=N}, {@code POST /api/reload} and the page at
 * {@code /}. HTTP/1.1 with keep-alive on the daemon's event loops, bound only to the configured
 * address. Nothing slow runs on an event loop: scrapes, status and fingerprints run on one admin
 * worker thread, reloads (file I/O) on their own thread.
 *
 * <p>It also samples each resource group's RU total every second, for the measured
 * {@code ru_per_sec} of {@code /api/status} (a rate over the last five seconds).
 */
public final class AdminServer implements AutoCloseable {

  /** Largest request body accepted; the API takes no bodies, so this only bounds buffering. */
  static final int MAX_CONTENT_BYTES = 64 * 1024;
  static final int MAX_INITIAL_LINE = 4096;
  static final int MAX_HEADER_BYTES = 8192;
  static final int MAX_CHUNK_BYTES = 8192;
  static final long IDLE_CLOSE_SECONDS = 120;
  static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(5);
  static final long RATE_SAMPLE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final AdminConfig config;
  private final RuntimeView view;
  private final EventLoopGroup group;
  private final RuRateSampler rates = new RuRateSampler(RATE_WINDOW_NANOS, RATE_SAMPLE_NANOS);
  private final ThreadPoolExecutor worker = boundedSingleThread("mproxy-admin", 64);
  private final ThreadPoolExecutor reloader = boundedSingleThread("mproxy-admin-reload", 4);
  /** How long {@link #close} waits for the listener and the open connections to close. */
  private static final long CLOSE_WAIT_MS = 2_000;

  private final ChannelGroup connections = new DefaultChannelGroup("mproxy-admin", GlobalEventExecutor.INSTANCE);
  private final AdminRouter router;
  private volatile Channel serverChannel;
  private volatile ScheduledFuture<?> sampling;

  /**
   * @param registry the registry {@code /metrics} scrapes (the one {@code MicrometerTelemetry} and
   *     {@code gauges} register in)
   * @param group the event loops to serve on; its transport (epoll, io_uring or NIO) picks the channel type
   */
  public AdminServer(AdminConfig config, RuntimeView view, PrometheusMeterRegistry registry, RuntimeGauges gauges,
      ReloadAction reload, EventLoopGroup group) {
    this(config, view, registry, gauges, reload, group, null);
  }

  /** As above, also serving {@code /api/usage} from {@code usage} (null: the endpoint answers 404). */
  public AdminServer(AdminConfig config, RuntimeView view, PrometheusMeterRegistry registry, RuntimeGauges gauges,
      ReloadAction reload, EventLoopGroup group, UsageMeter usage) {
    this.config = config;
    this.view = view;
    this.group = group;
    this.router = new AdminRouter(view, registry, gauges, reload, rates, worker, reloader, usage);
  }

  /**
   * Binds the configured address (port 0 picks a free port, see {@link #boundPort}) and starts
   * serving. Resolves the host name on the calling thread, so call it off the event loops.
   *
   * @throws IOException when the address cannot be bound
   */
  public synchronized void start() throws IOException {
    if (serverChannel != null) {
      throw new IllegalStateException("admin server already started");
    }
    InetSocketAddress address = new InetSocketAddress(config.bind().host(), config.bind().port());
    if (address.isUnresolved()) {
      throw new IOException("admin bind " + config.bind() + ": cannot resolve host");
    }
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(Transport.of(group).serverChannel())
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            ChannelPipeline p = ch.pipeline();
            p.addLast(new IdleStateHandler(0, 0, IDLE_CLOSE_SECONDS, TimeUnit.SECONDS));
            p.addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK_BYTES));
            p.addLast(new HttpObjectAggregator(MAX_CONTENT_BYTES));
            p.addLast(new AdminHandler(router, config.token()));
          }
        });
    ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw new IOException("admin bind " + config.bind() + ": " + bound.cause().getMessage(), bound.cause());
    }
    serverChannel = bound.channel();
    sampling = group.next().scheduleAtFixedRate(this::sampleRates, RATE_SAMPLE_NANOS, RATE_SAMPLE_NANOS,
        TimeUnit.NANOSECONDS);
  }

  /** The port actually bound (useful with port 0); -1 before {@link #start}. */
  public int boundPort() {
    Channel ch = serverChannel;
    return ch == null ? -1 : ((InetSocketAddress) ch.localAddress()).getPort();
  }

  /** Stops listening, closes open admin connections and stops the admin threads. */
  @Override
  public synchronized void close() {
    ScheduledFuture<?> s = sampling;
    if (s != null) {
      s.cancel(false);
    }
    // Bounded waits: on the drain path the daemon has already shut the event loops down, and a
    // channel whose loop terminated while it was being closed never notifies its close future
    // (the notification task is rejected), so an unbounded wait hung the exit. Such a channel
    // died with its loop anyway.
    Channel ch = serverChannel;
    if (ch != null) {
      ch.close().awaitUninterruptibly(CLOSE_WAIT_MS);
    }
    connections.close().awaitUninterruptibly(CLOSE_WAIT_MS);
    worker.shutdownNow();
    reloader.shutdown();
  }

  private void sampleRates() {
    try {
      rates.sample(view.gateway().clock().nanoTime(), view.gateway().groups().all());
    } catch (RuntimeException e) {
      // A view that is not ready yet (no gateway): try again next tick.
    }
  }

  private static ThreadPoolExecutor boundedSingleThread(String name, int queue) {
    return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }
}

package io.mproxy.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.admin.AdminServer;
import io.mproxy.server.admin.ReloadResult;
import io.mproxy.server.config.ConfigLoader;
import io.mproxy.server.config.ConfigProblem;
import io.mproxy.server.config.ConfigWatcher;
import io.mproxy.server.config.LoadResult;
import io.mproxy.server.metrics.MicrometerTelemetry;
import io.mproxy.server.metrics.RuntimeGauges;
import io.mproxy.server.config.ObservabilityConfig;
import io.mproxy.server.observe.LogSetup;
import io.mproxy.server.observe.ObservingTelemetry;
import io.mproxy.server.otel.OtlpMetrics;
import io.mproxy.server.otel.OtlpSpans;
import io.mproxy.server.usage.UsageMeter;
import io.mproxy.server.usage.UsageTelemetry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mproxy daemon: loads the config file, runs the {@link ProxyServer} and the admin HTTP
 * endpoint, reloads on file change and on {@code POST /api/reload} (an invalid file keeps the
 * running config; TLS files rewritten in place are picked up too), and drains on SIGTERM.
 */
public final class Daemon implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
  private static final long WATCH_POLL_MILLIS = 1_000;

  private final Path configFile;
  private final ConfigLoader loader;
  private final MicrometerTelemetry telemetry;
  private final ProxyServer server;
  private final AdminServer admin;
  private final ConfigWatcher watcher;
  private final Housekeeping housekeeping;
  private final ObservingTelemetry observing;
  private final OtlpMetrics otlpMetrics;
  private final OtlpSpans otlpSpans;
  private ObservabilityConfig observability;

  private Daemon(Path configFile, ConfigLoader loader, ProxyConfig config, List<ProtocolAdapter> adapters,
      ObservabilityConfig observability) throws Exception {
    this.configFile = configFile;
    this.loader = loader;
    this.observability = observability;
    LogSetup.routeJavaUtilLogging();
    observability.logging().ifPresent(LogSetup::apply);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String version = io.mproxy.server.cli.MproxyVersion.version();
    ObservabilityConfig.Otlp otlp = observability.otlp().orElse(null);
    this.otlpMetrics = otlp != null && otlp.metrics() ? OtlpMetrics.start(otlp, registry, version) : null;
    io.micrometer.core.instrument.MeterRegistry meters = otlpMetrics != null ? otlpMetrics.registry() : registry;
    this.telemetry = new MicrometerTelemetry(meters);
    UsageMeter usage = UsageMeter.standard(UsageMeter.systemClock());
    this.observing = new ObservingTelemetry(new UsageTelemetry(telemetry, usage), ObservingTelemetry.threadLocalRandom());
    observing.accessLog(observability.logging().orElse(ObservabilityConfig.Logging.DEFAULT));
    this.otlpSpans = otlp != null && otlp.traces() ? OtlpSpans.start(otlp, version) : null;
    observing.tracer(otlpSpans);
    this.server = new ProxyServer(config, adapters, observing,
        new io.mproxy.server.metrics.ClientMetrics(meters));
    boolean started = false;
    AdminServer adminServer = null;
    RuntimeGauges gauges = new RuntimeGauges(server, meters);
    gauges.publishing(usage::publish);
    try {
      server.start();
      adminServer = new AdminServer(config.admin(), server, registry, gauges,
          this::reload, server.eventLoops(), usage);
      adminServer.start();
      started = true;
    } finally {
      if (!started) {
        if (adminServer != null) {
          adminServer.close();
        }
        server.close();
        closeExporters();
      }
    }
    this.admin = adminServer;
    this.housekeeping = new Housekeeping(gauges, config.server().watchConfig(), WATCH_POLL_MILLIS);
    this.watcher = config.server().watchConfig()
        ? new ConfigWatcher(configFile, WATCH_POLL_MILLIS, changed -> reload())
        : null;
  }

  /** The protocol adapters on the class path. */
  public static List<ProtocolAdapter> discoverAdapters() {
    List<ProtocolAdapter> out = new ArrayList<>();
    ServiceLoader.load(ProtocolAdapter.class).forEach(out::add);
    return out;
  }

  /**
   * Loads {@code configFile} and starts everything. Throws {@link InvalidConfigException} listing
   * every problem when the file is invalid.
   */
  public static Daemon start(Path configFile) throws Exception {
    List<ProtocolAdapter> adapters = discoverAdapters();
    ConfigLoader loader = new ConfigLoader(adapters);
    LoadResult result = loader.load(configFile);
    if (!result.isValid()) {
      throw new InvalidConfigException(result.problems());
    }
    return new Daemon(configFile, loader, result.config(), adapters, result.observability());
  }

  /** Re-reads the config file and applies it; an invalid file changes nothing. */
  public synchronized ReloadResult reload() {
    LoadResult result = loader.load(configFile);
    if (!result.isValid()) {
      telemetry.configReload(false);
      List<String> errors = result.problems().stream().map(ConfigProblem::toString).collect(Collectors.toList());
      errors.forEach(e -> LOG.error("config reload refused: {}", e));
      return ReloadResult.refused(server.generation(), errors);
    }
    try {
      long gen = server.apply(result.config());
      applyObservability(result.observability());
      telemetry.configReload(true);
      return ReloadResult.applied(gen);
    } catch (Exception e) {
      telemetry.configReload(false);
      LOG.error("config reload failed while applying", e);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ReloadResult.refused(server.generation(), List.of(configFile + ": " + e.getMessage()));
    }
  }

  /**
   * {@code logging:} applies live (format, level, access log); {@code telemetry:} on restart only,
   * so a change there is logged and otherwise ignored.
   */
  private void applyObservability(ObservabilityConfig next) {
    ObservabilityConfig prev = observability;
    observability = next;
    if (next.logging().isPresent() || prev.logging().isPresent()) {
      ObservabilityConfig.Logging logging = next.logging().orElse(ObservabilityConfig.Logging.DEFAULT);
      LogSetup.apply(logging);
      observing.accessLog(logging);
    }
    if (!prev.otlp().equals(next.otlp())) {
      LOG.warn("telemetry: OTLP export settings change on restart only; keeping the running ones");
    }
  }

  private void closeExporters() {
    observing.tracer(null);
    if (otlpSpans != null) {
      otlpSpans.close();
    }
    if (otlpMetrics != null) {
      otlpMetrics.close();
    }
  }

  public ProxyServer server() {
    return server;
  }

  public int adminPort() {
    return admin.boundPort();
  }

  /** Drains in-flight requests (bounded by {@code shutdown_grace_ms}) and stops. */
  public void shutdown() {
    if (watcher != null) {
      watcher.close();
    }
    housekeeping.close();
    server.shutdown(server.config().server().shutdownGraceMs());
    admin.close();
    closeExporters();
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
    housekeeping.close();
    admin.close();
    server.close();
    closeExporters();
  }

  /** Runs the daemon until SIGTERM or SIGINT, then drains; returns the process exit code. */
  public static int run(Path config) {
    Daemon daemon;
    try {
      daemon = start(config);
    } catch (InvalidConfigException e) {
      e.problems().forEach(p -> System.err.println(p));
      return 1;
    } catch (Exception e) {
      System.err.println("mproxy: failed to start: " + e);
      LOG.error("start failed", e);
      return 1;
    }
    LOG.info("mproxy {} running; admin on port {}", io.mproxy.server.cli.MproxyVersion.version(), daemon.adminPort());
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onTermination(stop::countDown);
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("termination signal: draining");
    daemon.shutdown();
    LOG.info("stopped");
    return 0;
  }

  /** The config file could not be used; carries every problem found. */
  public static final class InvalidConfigException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient List<ConfigProblem> problems;

    public InvalidConfigException(List<ConfigProblem> problems) {
      super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
      this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
      return problems;
    }
  }
}

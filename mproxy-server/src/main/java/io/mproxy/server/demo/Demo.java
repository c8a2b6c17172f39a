package io.mproxy.server.demo;

import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.pool.BackendPool;
import io.mproxy.server.Daemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole of {@code mproxy demo} minus the terminal: the embedded backend, the daemon on a
 * generated config, and the three tenants' workload, with a {@link #sample} of what happened
 * since the previous one. Closing stops all three, in reverse order.
 */
public final class Demo implements AutoCloseable {

  public static final String HOST = "127.0.0.1";
  public static final String LISTENER = "demo";
  private static final long QUIET_CLOSE_MILLIS = 3_000;

  private final Path dir;
  private final DemoBackend backend;
  private final Daemon daemon;
  private final DemoWorkload workload;
  private final DemoTenant[] tenants;
  private final long startedNanos;
  private final Map<String, Double> lastRu = new HashMap<>();
  private long lastNanos;
  private boolean closed;

  private Demo(Path dir, DemoBackend backend, Daemon daemon, DemoWorkload workload, DemoTenant[] tenants) {
    this.dir = dir;
    this.backend = backend;
    this.daemon = daemon;
    this.workload = workload;
    this.tenants = tenants;
    this.startedNanos = System.nanoTime();
    this.lastNanos = startedNanos;
  }

  /** Starts everything; what started is stopped again when a later step fails. */
  public static Demo start(int listenerPort, int adminPort, long seed) throws Exception {
    DemoTenant[] tenants = DemoTenant.standard();
    Path dir = Files.createTempDirectory("mproxy-demo-");
    DemoBackend backend = null;
    Daemon daemon = null;
    try {
      backend = DemoBackend.start(0);
      Path config = dir.resolve("mproxy-demo.yaml");
      Files.writeString(config, DemoConfig.yaml(HOST, listenerPort, adminPort, backend.port()), StandardCharsets.UTF_8);
      daemon = Daemon.start(config);
      DemoWorkload workload = new DemoWorkload(HOST, daemon.server().listenerPort(LISTENER), DemoConfig.PASSWORD,
          DemoBackend.DATABASE, tenants, seed);
      Demo demo = new Demo(dir, backend, daemon, workload, tenants);
      for (ResourceGroup g : daemon.server().gateway().groups().all()) {
        demo.lastRu.put(g.name(), g.ruChargedTotal());
      }
      workload.start();
      return demo;
    } catch (Exception | Error e) {
      if (daemon != null) {
        daemon.close();
      }
      if (backend != null) {
        backend.close();
      }
      deleteQuietly(dir);
      throw e;
    }
  }

  public int listenerPort() {
    return daemon.server().listenerPort(LISTENER);
  }

  public int adminPort() {
    return daemon.adminPort();
  }

  public String dashboardUrl() {
    return "http://" + HOST + ":" + adminPort() + "/";
  }

  public DemoWorkload workload() {
    return workload;
  }

  public Daemon daemon() {
    return daemon;
  }

  public double elapsedSeconds() {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  /** One row per tenant covering the time since the previous call. */
  public synchronized List<DemoTable.Row> sample() {
    long now = System.nanoTime();
    double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
    lastNanos = now;
    Map<String, ResourceGroup> groups = new HashMap<>();
    for (ResourceGroup g : daemon.server().gateway().groups().all()) {
      groups.put(g.name(), g);
    }
    Map<String, Double> ruPerSec = new HashMap<>();
    for (ResourceGroup g : groups.values()) {
      double total = g.ruChargedTotal();
      double before = lastRu.getOrDefault(g.name(), total);
      lastRu.put(g.name(), total);
      ruPerSec.put(g.name(), Math.max(0, total - before) / seconds);
    }
    List<DemoTable.Row> rows = new ArrayList<>();
    for (DemoTenant t : tenants) {
      TenantStats s = workload.stats().get(t.name());
      TenantStats.Interval i = s.interval();
      ResourceGroup g = groups.get(t.group());
      double limit = g == null ? 0 : g.config().ruPerSec();
      rows.add(new DemoTable.Row(t.name(), t.role(), t.group(), limit, ruPerSec.getOrDefault(t.group(), 0.0),
          i.ok() / seconds, i.refused() / seconds, i.p99Millis(), s.refusedTotal(), s.failedTotal()));
    }
    return rows;
  }

  public String render(List<DemoTable.Row> rows) {
    return DemoTable.render(rows, elapsedSeconds(), dashboardUrl(), HOST + ":" + listenerPort());
  }

  /** Stops the workload, then the proxy, then the backend. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    workload.close();
    awaitNoConnectionOpening();
    daemon.close();
    backend.close();
    deleteQuietly(dir);
  }

  /**
   * Clients closing mid-request make the pools replace those connections; closing the proxy
   * while such a login is half done makes H2 print a "Broken pipe" stack trace and the pool warn
   * that the backend is down. So wait (at most {@link #QUIET_CLOSE_MILLIS}) until no backend
   * connection is being opened; quitting with one still opening is only noisier, not wrong.
   */
  private void awaitNoConnectionOpening() {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(QUIET_CLOSE_MILLIS);
    while (opening() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private int opening() {
    int n = 0;
    for (Cluster c : daemon.server().clusters()) {
      for (Map<String, BackendPool> byVariant : c.pools().values()) {
        for (BackendPool p : byVariant.values()) {
          n += p.stats().opening();
        }
      }
    }
    return n;
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}

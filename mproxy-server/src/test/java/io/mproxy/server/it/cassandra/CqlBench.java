package io.mproxy.server.it.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.ChildProcesses;
import io.mproxy.testkit.FreePort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prepared point reads and writes with the Java driver, straight to the node and through mproxy,
 * interleaved (the order alternates every round), fixed concurrency, fixed duration. Prints per
 * target the median throughput and latency percentiles over the rounds, the median of the
 * per-round ratios mproxy / direct, and the CPU the proxy's and the node's processes spent per
 * operation (utime + stime from /proc over each measured run). Run by {@code bench/cassandra.sh}:
 * mproxy runs in its own process ({@code bin/mproxy run} of the shaded jar, with a generated
 * configuration), as it runs in production; {@code --in-process} puts it in this JVM instead. The
 * node, the proxy and this load generator share the machine: numbers are indicative, ratios
 * inside one run are what to compare; the load average is printed before and after.
 */
public final class CqlBench {

  private record Run(String workload, String target, int round, double opsPerSec, double p50Micros,
      double p99Micros, long errors, double proxyCpuMicrosPerOp, double nodeCpuMicrosPerOp) {
  }

  /** Where mproxy runs: its pid (0 when in this JVM) and its CQL port. */
  private record Proxy(long pid, int port, AutoCloseable stop) {
  }

  public static void main(String[] args) throws Exception {
    int rounds = 3;
    int seconds = 10;
    int concurrency = 32;
    int rows = 10_000;
    int warmup = -1;
    boolean inProcess = false;
    Path baselineJar = null;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--concurrency" -> concurrency = Integer.parseInt(args[i + 1]);
        case "--rows" -> rows = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--baseline-jar" -> baselineJar = Path.of(args[i + 1]).toAbsolutePath();
        case "--in-process" -> {
          inProcess = true;
          i--;
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (expected --rounds N --seconds S --concurrency C --rows R [--warmup S] [--baseline-jar JAR]"
            + " [--in-process])");
      }
    }
    System.out.printf("load average before: %s; cores: %d%n", loadAverage(), Runtime.getRuntime().availableProcessors());
    CassandraServer node = CassandraServer.shared();
    System.out.printf("node up in %d ms, RSS %d KiB, pid %d%n", node.startMillis(), node.rssKib(), node.pid());
    if (warmup < 0) {
      warmup = Math.max(1, seconds / 2);
    }
    Proxy proxy = inProcess ? inProcess(node) : ownProcess(node, null);
    System.out.printf("mproxy %s on port %d%n", proxy.pid() == 0 ? "in this JVM" : "pid " + proxy.pid(), proxy.port());
    Proxy base = baselineJar == null ? null : ownProcess(node, baselineJar);
    if (base != null) {
      System.out.printf("base (%s) pid %d on port %d%n", baselineJar, base.pid(), base.port());
    }
    Map<String, Proxy> proxies = new LinkedHashMap<>();
    proxies.put("mproxy", proxy);
    if (base != null) {
      proxies.put("base", base);
    }
    try (AutoCloseable stopProxy = proxy.stop();
        AutoCloseable stopBase = base == null ? () -> { } : base.stop();
        CqlSession direct = session(new InetSocketAddress(node.host(), node.port()), CassandraServer.SUPERUSER,
            CassandraServer.SUPERUSER_PASSWORD);
        CqlSession viaProxy = session(new InetSocketAddress("127.0.0.1", proxy.port()), CassandraProxy.USER,
            CassandraProxy.PASSWORD);
        CqlSession viaBase = base == null ? null : session(new InetSocketAddress("127.0.0.1", base.port()),
            CassandraProxy.USER, CassandraProxy.PASSWORD)) {
      direct.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS bench WITH replication ="
          + " {'class': 'SimpleStrategy', 'replication_factor': 1}").setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      direct.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v text)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement load = direct.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)");
      Semaphore window = new Semaphore(256);
      for (int k = 0; k < rows; k++) {
        window.acquire();
        direct.executeAsync(load.bind(k, "value-" + k)).whenComplete((r, e) -> window.release());
      }
      window.acquire(256);

      Map<String, CqlSession> targets = new LinkedHashMap<>();
      targets.put("direct", direct);
      targets.put("mproxy", viaProxy);
      if (viaBase != null) {
        targets.put("base", viaBase);
      }
      List<Run> runs = new ArrayList<>();
      for (String workload : List.of("read", "write")) {
        for (Map.Entry<String, CqlSession> t : targets.entrySet()) {
          measure(workload, t.getKey(), t.getValue(), -1, warmup, concurrency, rows, 0, 0);
        }
        for (int round = 0; round < rounds; round++) {
          List<String> order = new ArrayList<>(targets.keySet());
          java.util.Collections.rotate(order, round);
          if (round / order.size() % 2 == 1) {
            java.util.Collections.reverse(order);
          }
          for (String name : order) {
            Proxy through = proxies.get(name);
            Run r = measure(workload, name, targets.get(name), round, seconds, concurrency, rows,
                through == null ? 0 : through.pid(), node.pid());
            runs.add(r);
            System.out.printf("round %d %-5s %-6s %10.0f ops/s  p50 %8.0f us  p99 %8.0f us  errors %d"
                + "  proxy CPU %6.1f us/op  node CPU %6.1f us/op  load %s%n", round, workload, name, r.opsPerSec(),
                r.p50Micros(), r.p99Micros(), r.errors(), r.proxyCpuMicrosPerOp(), r.nodeCpuMicrosPerOp(),
                loadAverage());
          }
        }
      }
      System.out.println();
      System.out.printf("%-6s %-7s %12s %10s %10s %14s %16s %15s%n", "work", "target", "median ops/s", "p50 us",
          "p99 us", "ratio to direct", "proxy CPU us/op", "node CPU us/op");
      for (String workload : List.of("read", "write")) {
        for (String name : targets.keySet()) {
          List<Run> mine = runs.stream().filter(r -> r.workload().equals(workload) && r.target().equals(name)).toList();
          double[] ratios = new double[mine.size()];
          for (int i = 0; i < mine.size(); i++) {
            int round = mine.get(i).round();
            Run d = runs.stream().filter(r -> r.workload().equals(workload) && r.target().equals("direct")
                && r.round() == round).findFirst().orElseThrow();
            ratios[i] = mine.get(i).opsPerSec() / d.opsPerSec();
          }
          System.out.printf("%-6s %-7s %12.0f %10.0f %10.0f %14.2f %16s %15.1f%n", workload, name,
              median(mine.stream().mapToDouble(Run::opsPerSec).toArray()),
              median(mine.stream().mapToDouble(Run::p50Micros).toArray()),
              median(mine.stream().mapToDouble(Run::p99Micros).toArray()), median(ratios),
              proxies.containsKey(name) && proxies.get(name).pid() != 0
                  ? String.format("%.1f", median(mine.stream().mapToDouble(Run::proxyCpuMicrosPerOp).toArray())) : "-",
              median(mine.stream().mapToDouble(Run::nodeCpuMicrosPerOp).toArray()));
        }
      }
      System.out.printf("load average after: %s%n", loadAverage());
    }
    System.exit(0);
  }

  private static Proxy inProcess(CassandraServer node) throws Exception {
    ProxyFixture fixture = CassandraProxy.start(node, 4, "", "");
    return new Proxy(0, fixture.port(), fixture::close);
  }

  /**
   * mproxy as its own process: {@code bin/mproxy run} (the shaded jar, built by the script
   * beforehand) with a configuration like the in-process one; stopped with SIGTERM at the end.
   */
  private static Proxy ownProcess(CassandraServer node, Path jar) throws Exception {
    Path root = Path.of(System.getProperty("mproxy.root", ".")).toAbsolutePath();
    Path dir = Files.createTempDirectory("mproxy-cql-bench-");
    int port = FreePort.loopback();
    int admin = FreePort.loopback();
    String yaml = "# generated by CqlBench (bench/cassandra.sh)\n"
        + "server: { watch_config: false, shutdown_grace_ms: 1000 }\n"
        + "admin: { bind: 127.0.0.1:" + admin + " }\n"
        + "listeners:\n"
        + "  - name: cql\n"
        + "    protocol: cassandra\n"
        + "    bind: 127.0.0.1:" + port + "\n"
        + "    cluster: cass\n"
        + "    auth: { mode: terminate, users: [ { name: " + CassandraProxy.USER + ", password: "
        + CassandraProxy.PASSWORD + " } ] }\n"
        + "clusters:\n"
        + "  cass:\n"
        + "    protocol: cassandra\n"
        + "    credentials: { user: " + CassandraServer.SUPERUSER + ", password: " + CassandraServer.SUPERUSER_PASSWORD
        + " }\n"
        + "    backends:\n"
        + "      - { address: " + node.address() + ", role: primary }\n"
        + "    pool: { mode: multiplex, min_idle: 1, max_size: 4, acquire_timeout_ms: 20000 }\n"
        + "resource_groups:\n"
        + "  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }\n";
    Path config = dir.resolve("mproxy.yaml");
    Files.writeString(config, yaml);
    List<String> command = new ArrayList<>();
    if (jar == null) {
      command.add(root.resolve("bin/mproxy").toString());
    } else {
      // the same JVM options bin/mproxy gives the daemon, for a like-for-like A/B
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-XX:+AlwaysPreTouch");
      String opts = System.getenv("MPROXY_JAVA_OPTS");
      if (opts != null && !opts.isBlank()) {
        command.addAll(List.of(opts.trim().split(" +")));
      }
      command.add("-jar");
      command.add(jar.toString());
    }
    command.addAll(List.of("run", "--config", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("mproxy.log").toFile());
    Process process = ChildProcesses.start(pb);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    HttpClient http = HttpClient.newHttpClient();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("mproxy exited with " + process.exitValue() + "; log: "
            + Files.readString(dir.resolve("mproxy.log")));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/healthz"))
            .timeout(java.time.Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          break;
        }
      } catch (java.io.IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) {
        ChildProcesses.kill(process, 5_000);
        throw new IllegalStateException("mproxy's /healthz was not 200 within 120 s; log: "
            + Files.readString(dir.resolve("mproxy.log")));
      }
      Thread.sleep(200);
    }
    return new Proxy(process.pid(), port, () -> ChildProcesses.kill(process, 10_000));
  }

  /** utime + stime of a process in microseconds, from /proc (0 for pid 0). */
  private static double cpuMicros(long pid) {
    if (pid == 0) {
      return 0;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 1e6 / CLK_TCK;
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read the CPU time of process " + pid, e);
    }
  }

  /** Clock ticks per second of /proc's CPU times ({@code getconf CLK_TCK}, passed by the script). */
  private static final double CLK_TCK = Double.parseDouble(System.getProperty("clk.tck", "100"));

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  private static Run measure(String workload, String target, CqlSession s, int round, int seconds, int concurrency,
      int rows, long proxyPid, long nodePid) throws InterruptedException {
    PreparedStatement ps = workload.equals("read")
        ? s.prepare("SELECT v FROM bench.kv WHERE k = ?")
        : s.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)");
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long[] samples = new long[1 << 20];
    AtomicLong sampled = new AtomicLong();
    double proxyCpu0 = cpuMicros(proxyPid);
    double nodeCpu0 = cpuMicros(nodePid);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
        continue;
      }
      int k = ThreadLocalRandom.current().nextInt(rows);
      long t0 = System.nanoTime();
      var stage = workload.equals("read") ? s.executeAsync(ps.bind(k)) : s.executeAsync(ps.bind(k, "v" + t0));
      stage.whenComplete((r, e) -> {
        long latency = System.nanoTime() - t0;
        if (e != null) {
          errors.incrementAndGet();
        } else {
          done.incrementAndGet();
          long i = sampled.getAndIncrement();
          if (i < samples.length) {
            samples[(int) i] = latency;
          }
        }
        inFlight.release();
      });
    }
    inFlight.acquire(concurrency);
    double elapsed = (System.nanoTime() - start) / 1e9;
    long ops = Math.max(1, done.get() + errors.get());
    double proxyCpu = (cpuMicros(proxyPid) - proxyCpu0) / ops;
    double nodeCpu = (cpuMicros(nodePid) - nodeCpu0) / ops;
    int n = (int) Math.min(sampled.get(), samples.length);
    long[] lat = Arrays.copyOf(samples, n);
    Arrays.sort(lat);
    double p50 = n == 0 ? 0 : lat[n / 2] / 1e3;
    double p99 = n == 0 ? 0 : lat[Math.min(n - 1, (int) (n * 0.99))] / 1e3;
    return new Run(workload, target, round, done.get() / elapsed, p50, p99, errors.get(), proxyCpu, nodeCpu);
  }

  private static double median(double[] values) {
    if (values.length == 0) {
      return 0;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static CqlSession session(InetSocketAddress address, String user, String password) {
    return CqlSession.builder()
        .addContactPoint(address)
        .withLocalDatacenter(CassandraProxy.DATACENTER)
        .withAuthCredentials(user, password)
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, CassandraProxy.REQUEST_TIMEOUT)
            .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 1)
            .withInt(DefaultDriverOption.CONNECTION_MAX_REQUESTS, 1024)
            .build())
        .build();
  }

  private CqlBench() {
  }
}

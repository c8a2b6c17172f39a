package io.mproxy.server.it.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
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
 * target the median throughput and latency percentiles over the rounds, and the median of the
 * per-round ratios mproxy / direct. Run by {@code bench/cassandra.sh}. The node, the proxy and
 * this load generator share the machine: numbers are indicative, ratios inside one run are what
 * to compare.
 */
public final class CqlBench {

  private record Run(String workload, String target, int round, double opsPerSec, double p50Micros,
      double p99Micros, long errors) {
  }

  public static void main(String[] args) throws Exception {
    int rounds = 3;
    int seconds = 10;
    int concurrency = 32;
    int rows = 10_000;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--concurrency" -> concurrency = Integer.parseInt(args[i + 1]);
        case "--rows" -> rows = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (expected --rounds N --seconds S --concurrency C --rows R)");
      }
    }
    CassandraServer node = CassandraServer.shared();
    System.out.printf("node up in %d ms, RSS %d KiB%n", node.startMillis(), node.rssKib());
    try (ProxyFixture proxy = CassandraProxy.start(node, 4, "", "");
        CqlSession direct = session(new InetSocketAddress(node.host(), node.port()), CassandraServer.SUPERUSER,
            CassandraServer.SUPERUSER_PASSWORD);
        CqlSession viaProxy = session(new InetSocketAddress("127.0.0.1", proxy.port()), CassandraProxy.USER,
            CassandraProxy.PASSWORD)) {
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
      List<Run> runs = new ArrayList<>();
      for (String workload : List.of("read", "write")) {
        for (Map.Entry<String, CqlSession> t : targets.entrySet()) {
          measure(workload, t.getKey(), t.getValue(), -1, Math.max(1, seconds / 2), concurrency, rows);
        }
        for (int round = 0; round < rounds; round++) {
          List<String> order = new ArrayList<>(targets.keySet());
          if (round % 2 == 1) {
            java.util.Collections.reverse(order);
          }
          for (String name : order) {
            Run r = measure(workload, name, targets.get(name), round, seconds, concurrency, rows);
            runs.add(r);
            System.out.printf("round %d %-5s %-6s %10.0f ops/s  p50 %8.0f us  p99 %8.0f us  errors %d%n",
                round, workload, name, r.opsPerSec(), r.p50Micros(), r.p99Micros(), r.errors());
          }
        }
      }
      System.out.println();
      System.out.printf("%-6s %-7s %12s %10s %10s %14s%n", "work", "target", "median ops/s", "p50 us", "p99 us",
          "ratio to direct");
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
          System.out.printf("%-6s %-7s %12.0f %10.0f %10.0f %14.2f%n", workload, name,
              median(mine.stream().mapToDouble(Run::opsPerSec).toArray()),
              median(mine.stream().mapToDouble(Run::p50Micros).toArray()),
              median(mine.stream().mapToDouble(Run::p99Micros).toArray()), median(ratios));
        }
      }
    }
    System.exit(0);
  }

  private static Run measure(String workload, String target, CqlSession s, int round, int seconds, int concurrency,
      int rows) throws InterruptedException {
    PreparedStatement ps = workload.equals("read")
        ? s.prepare("SELECT v FROM bench.kv WHERE k = ?")
        : s.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)");
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long[] samples = new long[1 << 20];
    AtomicLong sampled = new AtomicLong();
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
    int n = (int) Math.min(sampled.get(), samples.length);
    long[] lat = Arrays.copyOf(samples, n);
    Arrays.sort(lat);
    double p50 = n == 0 ? 0 : lat[n / 2] / 1e3;
    double p99 = n == 0 ? 0 : lat[Math.min(n - 1, (int) (n * 0.99))] / 1e3;
    return new Run(workload, target, round, done.get() / elapsed, p50, p99, errors.get());
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

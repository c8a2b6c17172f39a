package io.mproxy.server.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One phase of the HIGH/LOW experiment of docs/qos.md over JDBC, the same for every SQL protocol:
 * a HIGH client runs point selects one after another while LOW clients scan in a loop (a refused
 * scan or login backs off 5 ms and tries again), and HIGH's latencies come back as p50/p99. The
 * protocol's flood class says how to connect, which tables to use and how the proxy is set up.
 */
public final class QosFlood {

  /** Opens one JDBC connection through the proxy as a given tenant. */
  @FunctionalInterface
  public interface Connect {
    Connection open() throws SQLException;
  }

  /** One phase's HIGH latencies (ms) and what happened to the LOW flood meanwhile. */
  public record Phase(String name, double p50Ms, double p99Ms, int highErrors, long lowDone, long lowRefused) {
    public String row() {
      return String.format("| %s | %.2f ms | %.2f ms | %d | %d | %d |", name, p50Ms, p99Ms, highErrors, lowDone,
          lowRefused);
    }
  }

  private QosFlood() {
  }

  /**
   * Runs {@code highQueries} of {@code pointSql} (one int parameter, ids 1..1000) as HIGH while
   * {@code lowClients} clients run {@code scanSql} as LOW (none when 0). The flood is first let
   * reach steady state: every one of the {@code pool} backend connections has served a few scans.
   */
  public static Phase run(String name, Connect high, Connect low, String pointSql, String scanSql, int pool,
      int highQueries, int lowClients) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong lowDone = new AtomicLong();
    AtomicLong lowRefused = new AtomicLong();
    ExecutorService threads = Executors.newFixedThreadPool(Math.max(1, lowClients));
    List<Future<?>> flood = new ArrayList<>();
    try {
      for (int i = 0; i < lowClients; i++) {
        flood.add(threads.submit(() -> {
          while (!stop.get()) {
            try (Connection c = low.open(); Statement s = c.createStatement()) {
              while (!stop.get()) {
                try (ResultSet rs = s.executeQuery(scanSql)) {
                  rs.next();
                  lowDone.incrementAndGet();
                } catch (SQLException e) {
                  lowRefused.incrementAndGet();
                  Thread.sleep(5); // a refused client backs off a little, as real ones do
                }
              }
            } catch (SQLException e) {
              lowRefused.incrementAndGet(); // its login was shed: try again
              Thread.sleep(5);
            }
          }
          return null;
        }));
      }
      if (lowClients > 0) {
        waitForFlood(lowDone, lowRefused, pool);
      }
      long[] nanos = new long[highQueries];
      int errors = 0; // warm-up errors count too: HIGH must never be refused
      try (Connection c = openRetrying(high); PreparedStatement ps = c.prepareStatement(pointSql)) {
        for (int i = 0; i < 50; i++) { // warm-up (a server-side prepared statement is prepared here)
          ps.setInt(1, 1 + i);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
          } catch (SQLException e) {
            errors++;
          }
        }
        for (int i = 0; i < highQueries; i++) {
          ps.setInt(1, 1 + i % 1000);
          long t0 = System.nanoTime();
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
          } catch (SQLException e) {
            errors++;
          }
          nanos[i] = System.nanoTime() - t0;
        }
      }
      stop.set(true);
      for (Future<?> f : flood) {
        f.get(120, TimeUnit.SECONDS);
      }
      Arrays.sort(nanos);
      return new Phase(name, nanos[(int) (highQueries * 0.50)] / 1e6,
          nanos[Math.min(highQueries - 1, (int) Math.ceil(highQueries * 0.99) - 1)] / 1e6, errors, lowDone.get(),
          lowRefused.get());
    } finally {
      stop.set(true);
      threads.shutdownNow();
      threads.awaitTermination(60, TimeUnit.SECONDS);
    }
  }

  /** The flood has reached steady state once every backend connection has had a few answers. */
  private static void waitForFlood(AtomicLong done, AtomicLong refused, int pool) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (done.get() + refused.get() < 3L * pool && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(500);
  }

  /** HIGH's one connection; its login may be shed under the flood (a login is not a HIGH query). */
  private static Connection openRetrying(Connect connect) throws Exception {
    SQLException last = null;
    for (int i = 0; i < 100; i++) {
      try {
        return connect.open();
      } catch (SQLException e) {
        last = e;
        Thread.sleep(20);
      }
    }
    throw last;
  }
}

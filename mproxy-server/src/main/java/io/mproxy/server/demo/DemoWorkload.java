package io.mproxy.server.demo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the demo tenants' clients against the proxy: one platform thread per client (blocking
 * sockets, never on a Netty event loop), each asking, timing and classifying every answer:
 * an error whose message starts with {@code mproxy:} is a refusal by the proxy, any other error
 * or broken connection is a failure (the client reconnects after a pause).
 */
public final class DemoWorkload implements AutoCloseable {

  static final int TIMEOUT_MILLIS = 30_000;
  private static final long RECONNECT_PAUSE_MILLIS = 500;
  private static final long JOIN_MILLIS = 5_000;

  private final String host;
  private final int port;
  private final String password;
  private final String database;
  private final Map<String, TenantStats> stats = new LinkedHashMap<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Map<Thread, DemoPgClient> open = new ConcurrentHashMap<>();
  private volatile boolean running = true;

  /**
   * @param seed seeds each client's random stream, so two runs ask the same questions
   */
  public DemoWorkload(String host, int port, String password, String database, DemoTenant[] tenants, long seed) {
    this.host = host;
    this.port = port;
    this.password = password;
    this.database = database;
    SplittableRandom seeds = new SplittableRandom(seed);
    for (DemoTenant t : tenants) {
      TenantStats s = new TenantStats();
      stats.put(t.name(), s);
      for (int i = 0; i < t.clients(); i++) {
        SplittableRandom random = seeds.split();
        Thread th = new Thread(() -> loop(t, s, random), "demo-" + t.name() + "-" + i);
        th.setDaemon(true);
        threads.add(th);
      }
    }
  }

  public void start() {
    threads.forEach(Thread::start);
  }

  /** Per tenant name, in the order given. */
  public Map<String, TenantStats> stats() {
    return stats;
  }

  private void loop(DemoTenant tenant, TenantStats s, SplittableRandom random) {
    DemoPgClient client = null;
    while (running) {
      try {
        if (client == null) {
          client = DemoPgClient.connect(host, port, tenant.user(), password, database, "mproxy-demo-" + tenant.name(),
              TIMEOUT_MILLIS);
          open.put(Thread.currentThread(), client);
          if (!running) {
            break;
          }
        }
        long start = System.nanoTime();
        DemoPgClient.Result r = client.query(tenant.query().apply(random));
        long took = System.nanoTime() - start;
        if (r.ok()) {
          s.answered(took);
          pause(tenant.thinkMillis());
        } else if (r.error().startsWith("mproxy:")) {
          s.refused(r.error());
          pause(tenant.backoffMillis());
        } else {
          s.failed(r.error());
          pause(RECONNECT_PAUSE_MILLIS);
        }
      } catch (IOException | RuntimeException e) {
        if (!running) {
          break;
        }
        s.failed(String.valueOf(e.getMessage()));
        if (client != null) {
          client.close();
          open.remove(Thread.currentThread());
          client = null;
        }
        pause(RECONNECT_PAUSE_MILLIS);
      }
    }
    if (client != null) {
      client.close();
      open.remove(Thread.currentThread());
    }
  }

  private void pause(long millis) {
    if (millis <= 0 || !running) {
      return;
    }
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Stops every client: closes their sockets (unblocking reads) and waits for the threads. */
  @Override
  public void close() {
    running = false;
    open.values().forEach(DemoPgClient::close);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS);
    for (Thread t : threads) {
      t.interrupt();
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left > 0) {
        try {
          t.join(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}

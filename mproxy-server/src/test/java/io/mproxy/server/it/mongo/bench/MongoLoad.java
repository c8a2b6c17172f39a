package io.mproxy.server.it.mongo.bench;

import static com.mongodb.client.model.Filters.eq;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.mproxy.testkit.MongoServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.bson.Document;

/**
 * The load tool behind {@code bench/mongo.sh} (not a test): {@code serve} runs a
 * mongo-java-server backend with a preloaded collection; {@code load} drives point finds or
 * inserts with the official sync driver from N threads and prints one line,
 * {@code ops_per_sec p50_us p99_us errors cpu_us_per_op}, measured after an untimed warm-up.
 * With {@code CPU_PID}, the last column is that process's CPU time (user + system, from
 * {@code /proc/PID/stat}) over exactly the timed phase divided by the operations in it, in µs;
 * without it, {@code -}.
 *
 * <pre>
 *   MongoLoad serve PORT [DOCS]
 *   MongoLoad load PORT find|insert THREADS OPS_PER_THREAD [WARMUP_PER_THREAD [CPU_PID]]
 * </pre>
 */
public final class MongoLoad {

  static final String DB = "bench";
  static final String POINTS = "points";
  static final String INSERTS = "inserts";
  /** A run with more errors than this stops: the target is gone, its numbers would mean nothing. */
  static final int MAX_ERRORS = 100;

  private MongoLoad() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("serve")) {
      serve(Integer.parseInt(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 10_000);
      return;
    }
    if (args.length >= 5 && args[0].equals("load")) {
      load(Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          args.length > 5 ? Integer.parseInt(args[5]) : 2_000, args.length > 6 ? Long.parseLong(args[6]) : 0);
      return;
    }
    System.err.println("usage: MongoLoad serve PORT [DOCS] | load PORT find|insert THREADS OPS [WARMUP [CPU_PID]]");
    System.exit(2);
  }

  private static void serve(int port, int docs) throws InterruptedException {
    de.bwaldvogel.mongo.MongoServer server =
        new de.bwaldvogel.mongo.MongoServer(new de.bwaldvogel.mongo.backend.memory.MemoryBackend());
    server.bind(MongoServer.HOST, port);
    try (MongoClient c = MongoClients.create("mongodb://" + MongoServer.HOST + ":" + port)) {
      MongoCollection<Document> points = c.getDatabase(DB).getCollection(POINTS);
      List<Document> batch = new ArrayList<>();
      for (int i = 0; i < docs; i++) {
        batch.add(new Document("_id", i).append("name", "user-" + i).append("score", i % 100));
        if (batch.size() == 1000) {
          points.insertMany(batch);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        points.insertMany(batch);
      }
    }
    System.out.println("ready " + port + " " + docs);
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    Thread.currentThread().join();
  }

  private static void load(int port, String op, int threads, int opsPerThread, int warmupPerThread,
      long cpuPid) throws InterruptedException, java.io.IOException {
    MongoClientSettings settings = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://" + MongoServer.HOST + ":" + port))
        .applyToConnectionPoolSettings(p -> p.maxSize(threads).minSize(threads))
        .applyToSocketSettings(s -> s.readTimeout(30, TimeUnit.SECONDS).connectTimeout(5, TimeUnit.SECONDS))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .retryReads(false).retryWrites(false).build();
    try (MongoClient client = MongoClients.create(settings)) {
      MongoCollection<Document> points = client.getDatabase(DB).getCollection(POINTS);
      MongoCollection<Document> inserts = client.getDatabase(DB).getCollection(INSERTS);
      int docs = (int) Math.max(1, points.estimatedDocumentCount());
      long runId = System.nanoTime();
      long[][] latencies = new long[threads][opsPerThread];
      AtomicLong errors = new AtomicLong();
      CountDownLatch warmedUp = new CountDownLatch(threads);
      CountDownLatch go = new CountDownLatch(1);
      CountDownLatch done = new CountDownLatch(threads);
      long[] start = new long[1];
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread w = new Thread(() -> {
          SplittableRandom random = new SplittableRandom(runId + id);
          try {
            for (int i = 0; i < warmupPerThread; i++) {
              once(op, points, inserts, docs, random, runId + "-w" + id + "-" + i);
            }
          } catch (RuntimeException e) {
            errors.incrementAndGet();
          }
          warmedUp.countDown();
          try {
            go.await();
            for (int i = 0; i < opsPerThread; i++) {
              long t0 = System.nanoTime();
              try {
                once(op, points, inserts, docs, random, runId + "-" + id + "-" + i);
              } catch (RuntimeException e) {
                if (errors.incrementAndGet() > MAX_ERRORS) {
                  throw new IllegalStateException("more than " + MAX_ERRORS + " errors; last: " + e, e);
                }
              }
              latencies[id][i] = System.nanoTime() - t0;
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (IllegalStateException e) {
            System.err.println("load-" + id + ": " + e.getMessage());
          } finally {
            done.countDown();
          }
        }, "load-" + t);
        workers.add(w);
        w.start();
      }
      warmedUp.await();
      long cpuBefore = cpuTicks(cpuPid);
      start[0] = System.nanoTime();
      go.countDown();
      done.await();
      long elapsed = System.nanoTime() - start[0];
      long cpuAfter = cpuTicks(cpuPid);
      long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
      double opsPerSec = all.length / (elapsed / 1e9);
      String cpu = cpuPid == 0 ? "-"
          : String.format("%.1f", (cpuAfter - cpuBefore) * 1e6 / CLOCK_TICKS_PER_SEC / all.length);
      System.out.printf("%.1f %.1f %.1f %d %s%n", opsPerSec, all[all.length / 2] / 1e3,
          all[(int) Math.min(all.length - 1, Math.round(all.length * 0.99))] / 1e3, errors.get(), cpu);
    }
  }

  private static void once(String op, MongoCollection<Document> points, MongoCollection<Document> inserts,
      int docs, SplittableRandom random, String key) {
    if (op.equals("find")) {
      Document d = points.find(eq("_id", random.nextInt(docs))).first();
      if (d == null) {
        throw new IllegalStateException("point find found nothing");
      }
    } else if (op.equals("insert")) {
      inserts.insertOne(new Document("_id", key).append("v", random.nextInt()));
    } else {
      throw new IllegalArgumentException("op: " + op + " (expected: find or insert)");
    }
  }

  /** {@code getconf CLK_TCK} on Linux: the unit of utime and stime in {@code /proc/PID/stat}. */
  static final double CLOCK_TICKS_PER_SEC = 100;

  /** utime + stime of process {@code pid} in clock ticks (fields 14 and 15 of /proc/PID/stat); 0 for pid 0. */
  static long cpuTicks(long pid) throws java.io.IOException {
    if (pid == 0) {
      return 0;
    }
    String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
    // the command name (field 2) is in parentheses and may hold spaces: count from after it
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }
}

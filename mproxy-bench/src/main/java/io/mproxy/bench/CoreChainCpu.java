package io.mproxy.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Thread CPU time per request of {@link CoreChainBenchmark}'s chain (1 rule, 1 group): on a
 * loaded machine JMH's wall-clock ns/op mostly measures the wait for a core, while the thread's
 * own CPU time still compares two builds. Indicative only (caches are shared with the load).
 *
 * <pre>java -cp mproxy-bench/target/mproxy-benchmarks.jar io.mproxy.bench.CoreChainCpu THREADS ROUNDS OPS noop|counting</pre>
 *
 * <p>One thread runs {@code chain}; two or more run {@code chainContended} (one group, one bucket,
 * one backend). Prints CPU ns per op summed over the threads, and wall ns per op per thread.
 */
public final class CoreChainCpu {

  private CoreChainCpu() {
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 4) {
      System.err.println("usage: CoreChainCpu THREADS ROUNDS OPS_PER_ROUND noop|counting");
      System.exit(2);
    }
    int threads = Integer.parseInt(args[0]);
    int rounds = Integer.parseInt(args[1]);
    int ops = Integer.parseInt(args[2]);
    CoreChainBenchmark bench = new CoreChainBenchmark();
    bench.rules = 1;
    bench.groups = 1;
    bench.telemetry = args[3];
    bench.setUp();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (int r = 0; r < rounds; r++) {
      long[] cpu = new long[threads];
      Thread[] workers = new Thread[threads];
      long wall0 = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int index = t;
        workers[t] = new Thread(() -> {
          CoreChainBenchmark.Cursor cursor = new CoreChainBenchmark.Cursor();
          long cpu0 = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < ops; i++) {
            if (threads == 1) {
              bench.chain(cursor);
            } else {
              bench.chainContended(cursor);
            }
          }
          cpu[index] = mx.getCurrentThreadCpuTime() - cpu0;
        });
        workers[t].start();
      }
      for (Thread w : workers) {
        w.join();
      }
      long wall = System.nanoTime() - wall0;
      long sum = 0;
      for (long c : cpu) {
        sum += c;
      }
      System.out.printf("round %d cpu_ns_per_op %.1f wall_ns_per_op_per_thread %.1f%n", r,
          (double) sum / ((long) ops * threads), (double) wall / ops);
    }
    bench.check();
  }
}

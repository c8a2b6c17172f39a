package io.mproxy.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.mproxy.server.demo.Demo;
import io.mproxy.server.demo.DemoTable;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mproxy demo}: the first thing a newcomer runs. Starts H2's PostgreSQL-protocol server
 * in-process, mproxy in front of it and three tenants' clients (a HIGH interactive tenant, a LOW
 * batch flood, a runaway query), then redraws a per-tenant table every second until Ctrl-C (or
 * {@code --seconds}), when it stops everything it started.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = MproxyVersion.class,
    description = "Runs the proxy in front of an embedded backend with a noisy-neighbour workload.")
final class DemoCommand implements Callable<Integer> {

  private static final String CLEAR = "\u001b[H\u001b[2J";

  @Spec
  private CommandSpec spec;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "6432",
      description = "The PostgreSQL listener's port on 127.0.0.1 (0: any free port; default: ${DEFAULT-VALUE}).")
  private int port;

  @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "9901",
      description = "The admin API and dashboard port on 127.0.0.1 (0: any free port; default: ${DEFAULT-VALUE}).")
  private int adminPort;

  @Option(names = "--seconds", paramLabel = "N", defaultValue = "0",
      description = "Stop after N seconds (default: run until Ctrl-C).")
  private long seconds;

  @Option(names = "--refresh-ms", paramLabel = "MS", defaultValue = "1000",
      description = "How often the table is redrawn (default: ${DEFAULT-VALUE}).")
  private long refreshMillis;

  @Option(names = "--plain", description = "Print each table below the previous one instead of redrawing.")
  private boolean plain;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (refreshMillis < 100 || seconds < 0) {
      spec.commandLine().getErr().println("mproxy demo: --refresh-ms must be >= 100 and --seconds >= 0");
      return 2;
    }
    quietLogs();
    out.println("mproxy demo: starting H2 (PostgreSQL protocol), mproxy and three tenants...");
    out.flush();
    Demo demo;
    try {
      demo = Demo.start(port, adminPort, 42);
    } catch (Exception e) {
      spec.commandLine().getErr().println("mproxy demo: could not start: " + e.getMessage()
          + (e.getMessage() != null && e.getMessage().contains("in use")
          ? " (pass --port / --admin-port, or 0 for any free port)" : ""));
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      demo.close();
      stopped.countDown();
    }, "mproxy-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean redraw = !plain && System.console() != null;
    long deadline = seconds == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    try {
      while (System.nanoTime() < deadline && !stopped.await(refreshMillis, TimeUnit.MILLISECONDS)) {
        List<DemoTable.Row> rows = demo.sample();
        out.print((redraw ? CLEAR : System.lineSeparator()) + demo.render(rows));
        out.flush();
      }
    } finally {
      if (stopped.getCount() > 0) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is already running and stops the demo
        }
        demo.close();
      }
    }
    out.println("mproxy demo: stopped.");
    out.flush();
    return 0;
  }

  /** The daemon's INFO lines would scroll the table away; warnings still show. */
  private static void quietLogs() {
    if (LoggerFactory.getLogger("io.mproxy") instanceof Logger l) {
      l.setLevel(Level.WARN);
    }
  }
}

package io.mproxy.server;

import io.mproxy.core.tls.TlsReloads;
import io.mproxy.server.metrics.RuntimeGauges;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's periodic chores that must not wait for someone to ask, on one daemon thread off the
 * event loops: bringing the runtime gauges' series in line with the running configuration (an
 * OTLP-only setup has no {@code /metrics} scrape to do it), and looking for TLS certificate, key
 * and CA files rewritten in place (when the config file is watched too). A chore that throws is
 * logged and runs again next period.
 */
final class Housekeeping implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);

  private final ScheduledExecutorService timer;

  /**
   * @param periodMillis time between two rounds, >= 1
   * @param watchTlsFiles whether to look for rotated TLS files (follows {@code server.watch_config})
   */
  Housekeeping(RuntimeGauges gauges, boolean watchTlsFiles, long periodMillis) {
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mproxy-housekeeping");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(() -> run("runtime gauges", gauges::refresh), 0, periodMillis, TimeUnit.MILLISECONDS);
    if (watchTlsFiles) {
      timer.scheduleWithFixedDelay(() -> run("TLS file check", TlsReloads::checkAll), periodMillis, periodMillis,
          TimeUnit.MILLISECONDS);
    }
  }

  private static void run(String chore, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.warn("{} failed; trying again next period", chore, e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}

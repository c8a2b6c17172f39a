package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.ExternalCommand;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pgbench through the proxy: {@code pgbench -i} (which loads with COPY), then 100 clients over a
 * transaction pool of 10 on a backend whose {@code max_connections} is 30, so the same clients
 * could not even connect directly: the select-only script and the default TPC-B-like script in
 * each query mode ({@code -M simple}, {@code extended}, {@code prepared}), with zero failures.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PgbenchThroughProxyTest {

  private static final int CLIENTS = 100;
  private static final int TRANSACTIONS_PER_CLIENT = 20;
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(240);
  private static final Pattern PROCESSED =
      Pattern.compile("number of transactions actually processed: (\\d+)/(\\d+)");
  private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

  private static final int POOL = 10;

  private static PostgresServer pg;
  private static ProxyFixture proxy;
  private static Connection monitor;
  private static ExecutorService samplerThread;
  private static Future<?> sampler;
  private static final AtomicBoolean sampling = new AtomicBoolean(true);
  private static final AtomicInteger maxProxySessions = new AtomicInteger();
  private static final AtomicInteger samples = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.builder().maxConnections(30).start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address()).withPool("transaction", 2, POOL,
            // 100 clients queue for 10 connections: on a loaded machine a wait can pass the
            // default 5 s acquire timeout, and this test is about correctness, not latency
            "acquire_timeout_ms: 60000")
        .withListener("query_wait_timeout_ms: 60000").render(), PgConfigText.LISTENER);
    monitor = PgClients.app(pg.port());
    samplerThread = Executors.newSingleThreadExecutor();
    sampler = samplerThread.submit(() -> {
      while (sampling.get()) {
        int sessions = Integer.parseInt(PgClients.queryOne(monitor, "SELECT count(*) FROM pg_stat_activity"
            + " WHERE usename = 'app' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"));
        maxProxySessions.accumulateAndGet(sessions, Math::max);
        samples.incrementAndGet();
        TimeUnit.MILLISECONDS.sleep(20);
      }
      return null;
    });
    ExternalCommand.Result init = PgClients.pgbench(proxy.port(), RUN_TIMEOUT, "-i", "-s", "1", "-q");
    assertTrue(init.succeeded(), "pgbench -i through the proxy: " + init.describe());
    assertEquals("100000", pg.psql("app", "SELECT count(*) FROM pgbench_accounts"));
    assertEquals("1", pg.psql("app", "SELECT count(*) FROM pgbench_branches"));
  }

  @AfterAll
  static void stop() throws Exception {
    sampling.set(false);
    if (samplerThread != null) {
      samplerThread.shutdownNow();
      assertTrue(samplerThread.awaitTermination(30, TimeUnit.SECONDS));
    }
    try (PostgresServer p = pg; ProxyFixture x = proxy; Connection m = monitor) {
      // proxy first, then the backend
    }
  }

  @Test
  void directlyTheseHundredClientsAreRefusedByTheBackend() {
    // another role, so that the sampler, which counts app's sessions, sees only the proxy's
    pg.addUser("direct", "direct-pw", PostgresServer.PasswordEncryption.SCRAM_SHA_256);
    pg.psql("GRANT pg_read_all_data TO direct");
    ExternalCommand.Result direct = PgClients.pgbench(pg.port(), "direct", "direct-pw", RUN_TIMEOUT, "-n", "-S",
        "-c", Integer.toString(CLIENTS), "-j", "2", "-t", "1");

    assertFalse(direct.succeeded(), "100 direct clients exceed max_connections 30: " + direct.describe());
    String output = direct.stdout() + direct.stderr();
    // 53300 either way: "too many clients already", or, once only the superuser reserve is left,
    // "remaining connection slots are reserved for non-replication superuser connections"
    assertTrue(output.contains("too many clients already") || output.contains("remaining connection slots are reserved"),
        direct.describe());
  }

  @ParameterizedTest(name = "-S -M {0}")
  @ValueSource(strings = {"simple", "extended", "prepared"})
  void selectOnlyWithHundredClientsOverTenConnections(String mode) {
    assertAllProcessedWithoutFailure(run("-S", "-M", mode));
  }

  @ParameterizedTest(name = "TPC-B -M {0}")
  @ValueSource(strings = {"simple", "extended", "prepared"})
  void tpcbWithHundredClientsOverTenConnections(String mode) {
    long historyBefore = Long.parseLong(pg.psql("app", "SELECT count(*) FROM pgbench_history"));

    assertAllProcessedWithoutFailure(run("-M", mode));

    long historyAfter = Long.parseLong(pg.psql("app", "SELECT count(*) FROM pgbench_history"));
    assertEquals(CLIENTS * TRANSACTIONS_PER_CLIENT, historyAfter - historyBefore,
        "every TPC-B transaction committed its history row");
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void theBackendNeverSawMoreThanThePoolSize() throws Exception {
    sampling.set(false);
    sampler.get(30, TimeUnit.SECONDS);
    assertTrue(samples.get() > 0, "pg_stat_activity was sampled");
    assertTrue(maxProxySessions.get() >= 1 && maxProxySessions.get() <= POOL,
        "app sessions on the backend while pgbench ran through the proxy: at most " + POOL + ", saw "
            + maxProxySessions.get() + " in " + samples.get() + " samples");
  }

  private static ExternalCommand.Result run(String... scriptAndMode) {
    // -n: no VACUUM and no TRUNCATE of pgbench_history before the run, so history rows add up
    String[] args = new String[scriptAndMode.length + 7];
    System.arraycopy(scriptAndMode, 0, args, 0, scriptAndMode.length);
    System.arraycopy(new String[] {"-n", "-c", Integer.toString(CLIENTS), "-j", "2", "-t",
        Integer.toString(TRANSACTIONS_PER_CLIENT)}, 0, args, scriptAndMode.length, 7);
    return PgClients.pgbench(proxy.port(), RUN_TIMEOUT, args);
  }

  /**
   * pgbench exits 0, processed every transaction it was asked for, and reports no failed
   * transaction (PostgreSQL 15's pgbench prints the count; older ones print nothing when none).
   */
  private static void assertAllProcessedWithoutFailure(ExternalCommand.Result r) {
    assertTrue(r.succeeded(), r.describe());
    Matcher processed = PROCESSED.matcher(r.stdout());
    assertTrue(processed.find(), r.describe());
    int expected = CLIENTS * TRANSACTIONS_PER_CLIENT;
    assertEquals(expected + "/" + expected, processed.group(1) + "/" + processed.group(2), r.stdout());
    Matcher failed = FAILED.matcher(r.stdout());
    if (failed.find()) {
      assertEquals("0", failed.group(1), r.stdout());
    }
    assertFalse(r.stderr().contains("aborted"), r.stderr());
  }
}

package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.gossip.FleetNode;
import io.mproxy.gossip.LinkFilter;
import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.ChildProcesses;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Three mproxy nodes on loopback (daemons in this JVM, each with its own Netty and scalecube; in
 * one test the third is a separate JVM that is SIGKILLed) in front of one real redis-server share
 * a group of 3,000 RU/s. Clients are raw RESP connections sending paced, pipelined GETs whatever
 * the replies (open loop), so what a node is offered does not depend on what it admits. Admitted
 * RU is what each proxy charged the group ({@code ResourceGroup.ruChargedTotal}); every figure is
 * also written to {@code target/fleet-figures/} for docs/cluster.md.
 */
class FleetBudgetSharingTest {

  static final String GROUP = "fleet";
  static final double LIMIT = 3000;
  static final long INTERVAL_MS = 200;
  /** Ten intervals: generous, because these tests share two cores with whatever else runs. */
  static final long STALE_MS = 2000;
  static final Duration CONVERGE = Duration.ofSeconds(30);
  /** How long a share condition must hold, sampled every 100 ms, to count as converged. */
  static final long STABLE_NANOS = 1_500_000_000L;
  static final Duration MEASURE = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * The value every GET reads: 9 KiB, so a GET costs about 10 RU (1 + 9216 / 1024; the test's
   * cluster has {@code w_latency: 0}) and 3,000 RU/s is only ~300 GET/s. Two shared cores keep up with that; with 1 RU GETs
   * the clients themselves starved and offered less than they were told to.
   */
  static final int VALUE_BYTES = 9 * 1024;

  private static RedisServer redis;

  private final List<Node> nodes = new ArrayList<>();
  private final List<Load> loads = new ArrayList<>();
  private final List<String> figures = new ArrayList<>();
  private Timeline timeline;
  private String testName;
  /** Each node's demand (RU asked per second) averaged over the last {@link #measure} window. */
  private final double[] meanDemand = new double[3];

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
    redis.cli("SET", "k", "v".repeat(VALUE_BYTES));
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @AfterEach
  void stopAll() throws IOException {
    loads.forEach(Load::close);
    if (timeline != null) {
      timeline.close();
    }
    for (Node n : nodes) {
      n.close();
    }
    Path dir = Path.of("target", "fleet-figures");
    Files.createDirectories(dir);
    List<String> out = new ArrayList<>(figures);
    if (timeline != null) {
      out.add("");
      out.add("timeline (admitted RU/s per node over the previous 0.5 s; share RU/s):");
      out.addAll(timeline.lines());
    }
    Files.write(dir.resolve(testName + ".txt"), out, StandardCharsets.UTF_8);
    out.forEach(l -> System.out.println("[" + testName + "] " + l));
  }

  // ------------------------------------------------------------------ the tests

  @Test
  void loadOnOneNodeGetsTheWholeFleetBudget(TestInfo info) throws Exception {
    startFleet(info, false);
    long start = System.nanoTime();
    load(0, 4500);
    long converged = awaitShares("A holds nearly the whole limit", () -> share(0) >= 0.9 * LIMIT);
    note("A's share reached 90%% of the limit %.1f s after its load started", (converged - start) / 1e9);
    double[] ru = measure("load only on A (offered ~4,500 RU/s)");
    double total = ru[0] + ru[1] + ru[2];
    assertTrue(Math.abs(total - LIMIT) <= 0.10 * LIMIT, "fleet admitted " + total + " RU/s");
    JsonNode a = nodes.get(0).groupStatus();
    assertEquals("shared", a.path("share_mode").asText());
    assertEquals(3, a.path("fleet_members").asInt());
    assertTrue(a.path("demand_ru_per_sec").asDouble() > LIMIT, a.toString());
    PromScrape m = nodes.get(0).fixture.metrics();
    assertEquals(3.0, m.sum("mproxy_cluster_members"), 0.0);
    assertEquals(share(0), m.sum("mproxy_ru_share_per_sec", "group", GROUP), 1.0);
    JsonNode status = nodes.get(0).fixture.status();
    assertEquals(3, status.path("members").size(), status.toString());
    assertEquals(2, status.path("fleet").path("peers").size(), status.toString());
  }

  @Test
  void loadSplitOneToTwoIsAdmittedOneToTwoWithinTheLimit(TestInfo info) throws Exception {
    startFleet(info, false);
    load(0, 1500);
    load(1, 3000);
    awaitShares("B's share is about twice A's", () -> share(1) > 1.8 * share(0) && share(0) > 800);
    double[] ru = measure("A offered ~1,500, B ~3,000 RU/s");
    double total = ru[0] + ru[1] + ru[2];
    assertTrue(total <= 1.10 * LIMIT && total >= 0.90 * LIMIT, "fleet admitted " + total + " RU/s");
    double ratio = ru[1] / ru[0];
    double demandRatio = meanDemand[1] / meanDemand[0];
    note("B/A admitted ratio %.2f; B/A demand (RU asked per second, mean over the window) ratio %.2f",
        ratio, demandRatio);
    assertTrue(Math.abs(ratio / demandRatio - 1) <= 0.30, "admitted B/A " + ratio + " vs demand B/A " + demandRatio);
    assertTrue(ratio >= 1.2, "B, asking for more, is admitted more: B/A " + ratio);
  }

  @Test
  void aKilledNodesShareIsRedistributed(TestInfo info) throws Exception {
    startFleet(info, true);
    for (int i = 0; i < 3; i++) {
      load(i, 2000);
    }
    awaitShares("three nodes share the limit", () -> sharedBy(3, 0, 1, 2));
    measure("three nodes offered ~2,000 RU/s each");
    long killed = System.nanoTime();
    nodes.get(2).kill();
    double took = (awaitShares("A and B split C's share", () -> sharedBy(2, 0, 1)) - killed) / 1e6;
    note("C SIGKILLed: A and B hold the whole limit between them %.0f ms later (stale_after_ms %d, interval %d)",
        took, STALE_MS, INTERVAL_MS);
    assertTrue(took <= STALE_MS + 10 * INTERVAL_MS + 5_000, "redistributed after " + took + " ms");
    double[] ru = measure("C killed; A and B offered ~2,000 RU/s each");
    double total = ru[0] + ru[1];
    assertTrue(Math.abs(total - LIMIT) <= 0.10 * LIMIT, "A+B admitted " + total + " RU/s");
  }

  private boolean onFallback(int i) {
    return "fallback".equals(nodes.get(i).groupStatus().path("share_mode").asText());
  }

  /** The given nodes each see {@code members} live members and their shares add up to the limit (±5%). */
  private boolean sharedBy(int members, int... which) {
    double sum = 0;
    for (int i : which) {
      if (nodes.get(i).fleetMembers() != members) {
        return false;
      }
      sum += share(i);
    }
    return Math.abs(sum - LIMIT) <= 0.05 * LIMIT;
  }

  @Test
  void cuttingGossipPutsEveryNodeOnItsFallbackAndHealingConverges(TestInfo info) throws Exception {
    startFleet(info, false);
    load(0, 3000);
    load(1, 1500);
    awaitShares("demand split", () -> share(0) > 1.6 * share(1) && share(1) > 800 && share(2) < 200);
    measure("before the cut: A offered ~3,000, B ~1,500 RU/s");

    long cut = System.nanoTime();
    nodes.forEach(n -> n.fleet().linkFilter((from, to) -> false));
    long fellBack = awaitShares("all on fallback", () -> onFallback(0) && onFallback(1) && onFallback(2));
    note("all links cut: every node on its fallback (1,000) %.0f ms later", (fellBack - cut) / 1e6);
    for (Node n : nodes) {
      assertEquals("fallback", n.groupStatus().path("share_mode").asText());
    }
    double[] ru = measure("partitioned (test seam): each node alone");
    assertTrue(Math.abs(ru[0] - 1000) <= 100, "A admitted " + ru[0] + " RU/s on its fallback");
    assertTrue(ru[0] + ru[1] + ru[2] <= 1.10 * LIMIT, "never more than the limit when all are cut");

    long heal = System.nanoTime();
    nodes.forEach(n -> n.fleet().linkFilter(LinkFilter.OPEN));
    long healed = awaitShares("demand split again",
        () -> share(0) > 1.6 * share(1) && share(1) > 800 && share(2) < 200);
    note("healed: demand split again %.0f ms later", (healed - heal) / 1e6);
    ru = measure("healed");
    assertTrue(Math.abs(ru[0] + ru[1] + ru[2] - LIMIT) <= 0.10 * LIMIT, "fleet admitted after the heal");
  }

  @Test
  void aNodeWhoseGossipSocketsCloseFallsBackAndRejoins(TestInfo info) throws Exception {
    startFleet(info, false);
    load(2, 3000);
    load(1, 1500);
    awaitShares("demand split", () -> share(2) > 1.6 * share(1) && share(1) > 800);
    measure("before: C offered ~3,000, B ~1,500 RU/s");

    long cut = System.nanoTime();
    nodes.get(2).fleet().disconnect();
    long alone = awaitShares("C alone on its fallback; A and B split without it",
        () -> onFallback(2) && share(1) > 2000);
    note("C's gossip sockets closed: C on fallback, B at %.0f, %.0f ms later", share(1), (alone - cut) / 1e6);
    assertEquals("fallback", nodes.get(2).groupStatus().path("share_mode").asText());
    assertEquals(2, nodes.get(1).groupStatus().path("fleet_members").asInt());
    double[] ru = measure("C's gossip sockets closed");
    assertTrue(Math.abs(ru[2] - 1000) <= 100, "C admitted " + ru[2] + " RU/s on its fallback");

    long heal = System.nanoTime();
    nodes.get(2).fleet().reconnect();
    long rejoined = awaitShares("C rejoined", () -> share(2) > 1.6 * share(1) && share(1) > 800 && share(1) < 1500);
    note("C rejoined through its seeds: demand split again %.0f ms later", (rejoined - heal) / 1e6);
    Eventually.assertWithin(CONVERGE, () -> assertEquals(3, nodes.get(2).fixture.status().path("members").size()));
    ru = measure("rejoined");
    assertTrue(Math.abs(ru[0] + ru[1] + ru[2] - LIMIT) <= 0.10 * LIMIT, "fleet admitted after rejoining");
  }

  @Test
  void aReloadAppliesTheLiveKeysAtOnceAndKeepsTheRest(TestInfo info) throws Exception {
    startFleet(info, false);
    nodes.forEach(n -> n.fleet().linkFilter((from, to) -> false));
    awaitShares("all on fallback", () -> onFallback(0) && onFallback(1) && onFallback(2));
    assertEquals(1000, share(0), 1e-6);
    ProxyFixture a = nodes.get(0).fixture;
    String text = Files.readString(a.configFile());
    a.rewriteConfig(text.replace("  expected_nodes: 3\n", "  expected_nodes: 3\n  fallback_share: 0.5\n")
        .replace("gossip_interval_ms: " + INTERVAL_MS, "gossip_interval_ms: 300"));
    ProxyFixture.Http reload = a.post("/api/reload");
    assertEquals(200, reload.status(), reload.body());
    assertEquals(1500, share(0), 1e-6, "fallback_share applies at once: the reload runs a round");
    assertEquals(1000, share(1), 1e-6, "only the reloaded node changed");
    note("reload with fallback_share 0.5 while cut off: A's share %.0f right after POST /api/reload", share(0));
  }

  // ------------------------------------------------------------------ fleet

  private void startFleet(TestInfo info, boolean thirdInChildJvm) throws Exception {
    testName = info.getTestMethod().orElseThrow().getName();
    int[] gossip = {FreePort.loopback(), FreePort.loopback(), FreePort.loopback()};
    for (int i = 0; i < 3; i++) {
      List<String> seeds = new ArrayList<>();
      for (int j = 0; j < i; j++) { // the nodes already running, as a rolling start would list them
        seeds.add("127.0.0.1:" + gossip[j]);
      }
      String fleet = "cluster:\n"
          + "  bind: 127.0.0.1:" + gossip[i] + "\n"
          + "  seeds: [" + String.join(", ", seeds) + "]\n"
          + "  expected_nodes: 3\n"
          + "  gossip_interval_ms: " + INTERVAL_MS + "\n"
          + "  stale_after_ms: " + STALE_MS + "\n";
      ProxyConfigText base = ProxyConfigText.forBackend(redis.address())
          .withCluster("pool: { min_idle: 2, max_size: 8 }")
          // no latency term: a GET costs the same ~10 RU however starved the machine, so the
          // figures measure the sharing, not the host's latency
          .withCluster("ru: { w_latency: 0 }")
          .withGroup(GROUP, "{ ru_per_sec: " + (long) LIMIT + ", burst: 300, on_exhausted: reject }")
          .withTenant("{ match: { application: " + GROUP + " }, group: " + GROUP + " }");
      String name = String.valueOf((char) ('A' + i));
      if (i == 2 && thirdInChildJvm) {
        nodes.add(Node.child(name, base.render(), fleet));
      } else {
        nodes.add(Node.inJvm(name, ProxyFixture.startYaml(base.render() + fleet, ProxyConfigText.LISTENER)));
      }
    }
    timeline = new Timeline(nodes);
    awaitShares("three members", () -> nodes.stream().allMatch(n -> n.fleetMembers() == 3));
  }

  private void load(int node, int ruPerSec) throws IOException {
    loads.add(new Load(nodes.get(node).port, ruPerSec));
  }

  private double share(int i) {
    return nodes.get(i).share();
  }

  private static boolean near(double actual, double expected) {
    return Math.abs(actual - expected) <= 0.05 * expected;
  }

  /**
   * Waits (bounded) until {@code condition} has held for {@link #STABLE_NANOS} without a break;
   * returns when it started holding.
   */
  private long awaitShares(String what, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    long holdingSince = -1;
    while (true) {
      long now = System.nanoTime();
      if (condition.getAsBoolean()) {
        if (holdingSince < 0) {
          holdingSince = now;
        }
        if (now - holdingSince >= STABLE_NANOS) {
          return holdingSince;
        }
      } else {
        holdingSince = -1;
      }
      if (now > deadline) {
        throw new AssertionError(what + " did not hold for " + STABLE_NANOS / 1_000_000 + " ms within "
            + CONVERGE + ": shares " + shares());
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }

  private String shares() {
    StringBuilder s = new StringBuilder();
    for (Node n : nodes) {
      s.append(n.name).append('=').append(n.alive() ? String.format(Locale.ROOT, "%.0f", n.share()) : "dead").append(' ');
    }
    return s.toString().trim();
  }

  /** Admitted RU/s per node over {@link #MEASURE}, noted with the phase. */
  private double[] measure(String phase) {
    double[] before = new double[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      before[i] = nodes.get(i).alive() ? nodes.get(i).charged() : 0;
    }
    long t0 = System.nanoTime();
    double[] demandSum = new double[nodes.size()];
    int samples = 0;
    while (System.nanoTime() - t0 < MEASURE.toNanos()) {
      LockSupport.parkNanos(250_000_000L);
      samples++;
      for (int i = 0; i < nodes.size(); i++) {
        demandSum[i] += nodes.get(i).alive() ? nodes.get(i).demand() : 0;
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    for (int i = 0; i < nodes.size(); i++) {
      meanDemand[i] = demandSum[i] / samples;
    }
    double[] rate = new double[nodes.size()];
    StringBuilder line = new StringBuilder(phase).append(": admitted RU/s");
    double total = 0;
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      rate[i] = n.alive() ? (n.charged() - before[i]) / secs : 0;
      total += rate[i];
      line.append(String.format(Locale.ROOT, " %s=%.0f", n.name, rate[i]));
    }
    line.append(String.format(Locale.ROOT, " total=%.0f (%.1f%% of %d) over %.1f s; shares %s; mean demand",
        total, 100 * total / LIMIT, (long) LIMIT, secs, shares()));
    for (int i = 0; i < nodes.size(); i++) {
      line.append(String.format(Locale.ROOT, " %s=%.0f", nodes.get(i).name, meanDemand[i]));
    }
    figures.add(line.toString());
    return rate;
  }

  private void note(String format, Object... args) {
    figures.add(String.format(Locale.ROOT, format, args));
  }

  // ------------------------------------------------------------------ a node

  /** One fleet member: a daemon in this JVM, or one in a child JVM read over its admin API. */
  static final class Node {
    final String name;
    final int port;
    final ProxyFixture fixture;
    final Process process;
    final int adminPort;
    final Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Node(String name, int port, ProxyFixture fixture, Process process, int adminPort, Path dir) {
      this.name = name;
      this.port = port;
      this.fixture = fixture;
      this.process = process;
      this.adminPort = adminPort;
      this.dir = dir;
    }

    static Node inJvm(String name, ProxyFixture fixture) {
      return new Node(name, fixture.port(), fixture, null, fixture.adminPort(), null);
    }

    /** The same daemon as {@code Main run --config}, in a JVM of its own that can be SIGKILLed. */
    static Node child(String name, String yaml, String fleet) throws Exception {
      int port = FreePort.loopback();
      int admin = FreePort.loopback();
      String text = yaml.replace("admin: { bind: 127.0.0.1:0 }", "admin: { bind: 127.0.0.1:" + admin + " }")
          .replace("bind: 127.0.0.1:0", "bind: 127.0.0.1:" + port) + fleet;
      Path dir = Files.createTempDirectory("mproxy-fleet-");
      Path file = dir.resolve("mproxy.yaml");
      Files.writeString(file, text);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
          "io.mproxy.server.Main", "run", "--config", file.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile());
      Process p = ChildProcesses.start(pb);
      Node node = new Node(name, port, null, p, admin, dir);
      Eventually.assertWithin(Duration.ofSeconds(120), () -> {
        String log = Files.readString(dir.resolve("node.log"));
        assertTrue(p.isAlive(), "child mproxy exited: " + log);
        assertEquals(200, node.http("/healthz").statusCode(), log);
      });
      return node;
    }

    boolean alive() {
      return process == null || process.isAlive();
    }

    FleetNode fleet() {
      return fixture.daemon().server().fleet().orElseThrow();
    }

    double share() {
      if (fixture != null) {
        return group().shareRuPerSec();
      }
      return alive() ? groupStatus().path("share_ru_per_sec").asDouble() : 0;
    }

    double demand() {
      return groupStatus().path("demand_ru_per_sec").asDouble();
    }

    int fleetMembers() {
      return groupStatus().path("fleet_members").asInt();
    }

    double charged() {
      if (fixture != null) {
        return group().ruChargedTotal();
      }
      return groupStatus().path("ru_total").asDouble();
    }

    private ResourceGroup group() {
      return fixture.daemon().server().gateway().groups().get(GROUP);
    }

    JsonNode groupStatus() {
      JsonNode status;
      if (fixture != null) {
        status = fixture.status();
      } else {
        try {
          status = JSON.readTree(http("/api/status").body());
        } catch (IOException e) {
          throw new AssertionError(e);
        }
      }
      for (JsonNode g : status.path("resource_groups")) {
        if (GROUP.equals(g.path("name").asText())) {
          return g;
        }
      }
      throw new AssertionError("no group " + GROUP + " in " + status);
    }

    private HttpResponse<String> http(String path) {
      try {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new AssertionError(path + ": " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    void kill() {
      assertTrue(ChildProcesses.kill(process, 10_000), "child mproxy did not die");
    }

    void close() throws IOException {
      if (fixture != null) {
        fixture.close();
      }
      if (process != null) {
        ChildProcesses.kill(process, 10_000);
        try (var files = Files.list(dir)) {
          for (Path f : files.toList()) {
            Files.deleteIfExists(f);
          }
        }
        Files.deleteIfExists(dir);
      }
    }
  }

  // ------------------------------------------------------------------ load

  /**
   * Open-loop load: connections each sending one ~10 RU GET every 10 ms (about 1,000 RU/s; the
   * last connection fewer) whatever the replies; refusals are the proxy's {@code mproxy:} errors.
   */
  static final class Load implements AutoCloseable {
    private static final long PERIOD_NANOS = 10_000_000L;
    private static final int RU_PER_CONNECTION = 1000;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong refused = new AtomicLong();

    Load(int port, int ruPerSec) throws IOException {
      int full = ruPerSec / RU_PER_CONNECTION;
      int rest = ruPerSec % RU_PER_CONNECTION;
      for (int i = 0; i < full + (rest > 0 ? 1 : 0); i++) {
        long period = i < full ? PERIOD_NANOS : PERIOD_NANOS * RU_PER_CONNECTION / rest;
        RespConnection c = RespConnection.open(ProxyFixture.HOST, port);
        assertEquals("OK", c.call("CLIENT", "SETNAME", GROUP));
        Thread t = new Thread(() -> drive(c, period), "load-" + port + "-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }

    private void drive(RespConnection c, long period) {
      long next = System.nanoTime();
      try (c) {
        while (running.get()) {
          c.write("GET", "k");
          c.flush();
          for (Object reply : c.read(1)) {
            if (reply instanceof RespError e) {
              if (!e.message().startsWith("mproxy: rejected group=" + GROUP + " reason=ru_limit")) {
                throw new AssertionError("unexpected error: " + e.message());
              }
              refused.incrementAndGet();
            } else {
              ok.incrementAndGet();
            }
          }
          next += period;
          long left;
          while ((left = next - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
          }
        }
      } catch (IOException e) {
        if (running.get()) {
          throw new AssertionError("load connection failed", e);
        }
      }
    }

    @Override
    public void close() {
      running.set(false);
      for (Thread t : threads) {
        try {
          t.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  // ------------------------------------------------------------------ timeline

  /** Samples every node's admitted RU and share twice a second, for the figures. */
  static final class Timeline implements AutoCloseable {
    private final List<Node> nodes;
    private final List<String> lines = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    Timeline(List<Node> nodes) {
      this.nodes = List.copyOf(nodes);
      this.thread = new Thread(this::run, "fleet-timeline");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      long start = System.nanoTime();
      double[] last = new double[nodes.size()];
      for (int i = 0; i < nodes.size(); i++) {
        try {
          last[i] = nodes.get(i).charged();
        } catch (RuntimeException | AssertionError e) {
          last[i] = 0;
        }
      }
      long lastT = start;
      while (running) {
        LockSupport.parkNanos(500_000_000L);
        long now = System.nanoTime();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "t=%5.1fs", (now - start) / 1e9));
        for (int i = 0; i < nodes.size(); i++) {
          Node n = nodes.get(i);
          if (!n.alive()) {
            s.append(String.format(Locale.ROOT, "  %s dead", n.name));
            continue;
          }
          try {
            double c = n.charged();
            double rate = (c - last[i]) / ((now - lastT) / 1e9);
            last[i] = c;
            s.append(String.format(Locale.ROOT, "  %s %5.0f RU/s share %5.0f", n.name, rate, n.share()));
          } catch (RuntimeException | AssertionError e) {
            s.append(String.format(Locale.ROOT, "  %s ?", n.name));
          }
        }
        lastT = now;
        synchronized (lines) {
          lines.add(s.toString());
        }
      }
    }

    List<String> lines() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
